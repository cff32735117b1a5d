//! The names of the data identifiers the audit masker knows, on their own so that the
//! configuration can refuse a custom identifier named like one without depending on the
//! masker (which depends on the configuration).

/// The names of the managed data identifiers (CloudWatch's names where CloudWatch has the
/// identifier), in the order they take precedence. The gitleaks rules add their own names
/// (`audit::mask::Masker::identifiers` lists them all); a custom identifier may use none of these.
pub const MANAGED: &[&str] = &[
    // Credentials
    "OpenSshPrivateKey",
    "PgpPrivateKey",
    "PuttyPrivateKey",
    "PkcsPrivateKey",
    "SlackToken",
    "AwsSessionToken",
    "AwsSecretKey",
    "AwsAccessKeyId",
    "Secret",
    // Financial
    "BankAccountNumber-DE",
    "BankAccountNumber-ES",
    "BankAccountNumber-FR",
    "BankAccountNumber-GB",
    "BankAccountNumber-IT",
    "BankAccountNumber-US",
    "BankAccountNumber",
    "CreditCardNumber",
    "CreditCardExpiration",
    "CreditCardSecurityCode",
    // Personal
    "Ssn-US",
    "Ssn-ES",
    "IndividualTaxIdentificationNumber-US",
    "PassportNumber-US",
    "PassportNumber-CA",
    "PassportNumber-GB",
    "PassportNumber-DE",
    "PassportNumber-FR",
    "PassportNumber-ES",
    "PassportNumber-IT",
    "DriversLicense-US",
    "DriversLicense-GB",
    "NationalInsuranceNumber-GB",
    "NationalIdentificationNumber-DE",
    "NationalIdentificationNumber-ES",
    "NationalIdentificationNumber-IT",
    "NieNumber-ES",
    "NifNumber-ES",
    "TaxId-DE",
    "TaxId-FR",
    "TaxId-GB",
    "InseeCode-FR",
    "NhsNumber-GB",
    "SocialInsuranceNumber-CA",
    "DateOfBirth",
    "VehicleIdentificationNumber",
    "LatLong",
    "Name",
    "Address",
    "EmailAddress",
    "IpAddress",
    "PhoneNumber",
];
