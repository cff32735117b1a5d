//! CloudWatch's financial and personal identifiers, under CloudWatch's names: bank accounts
//! and IBANs, card numbers, expiry dates and security codes, SSNs and ITINs, passports,
//! driver's licences, national insurance, national and tax ids, birth dates, VINs and
//! coordinates.
//!
//! Where CloudWatch requires a keyword, so do we (within 30 characters, as a word); where a
//! format carries a check (IBAN mod 97, Luhn, the VIN check digit, the Spanish DNI letter,
//! the Italian codice fiscale's check letter, the INSEE key…) the check is made too, and a
//! format whose check is strong enough (IBAN, codice fiscale, INSEE) or whose spelling is
//! unmistakable (a dashed SSN or ITIN) is masked without a keyword.

use std::ops::Range;

use regex::Captures;

use super::credentials::{credit_card, luhn, not_inside_number};
use super::{digits, Rule};

/// IBAN lengths by country (ISO 13616 registry, the SEPA countries and the common others).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AT", 20),
    ("BE", 16),
    ("BG", 22),
    ("BR", 29),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FR", 27),
    ("GB", 22),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TR", 26),
];

/// An IBAN: its country's length and the ISO 7064 mod-97 check.
fn iban(text: &str, r: Range<usize>) -> bool {
    let compact: Vec<u8> = text[r].bytes().filter(|b| *b != b' ').collect();
    let Ok(country) = std::str::from_utf8(&compact[..2]) else {
        return false;
    };
    if !IBAN_LENGTHS
        .iter()
        .any(|(c, len)| *c == country && *len == compact.len())
    {
        return false;
    }
    // Move the first four characters to the end, letters to numbers (A = 10), mod 97.
    let mut rem: u32 = 0;
    for &b in compact[4..].iter().chain(&compact[..4]) {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return false,
        };
        rem = if value >= 10 {
            (rem * 100 + value) % 97
        } else {
            (rem * 10 + value) % 97
        };
    }
    rem == 1
}

/// A US SSN as issued: area not 000, 666 or 9xx, group not 00, serial not 0000.
fn ssn(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    let n = |s: &[u32]| s.iter().fold(0u32, |a, d| a * 10 + d);
    d.len() == 9
        && !matches!(n(&d[..3]), 0 | 666 | 900..=999)
        && n(&d[3..5]) != 0
        && n(&d[5..]) != 0
        && not_inside_number(text, r)
}

/// A US ITIN: 9xx, then a group in 50–65, 70–88, 90–92 or 94–99.
fn itin(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    let group = d.get(3..5).map(|g| g[0] * 10 + g[1]);
    d.len() == 9
        && d[0] == 9
        && group.is_some_and(|g| matches!(g, 50..=65 | 70..=88 | 90..=92 | 94..=99))
        && not_inside_number(text, r)
}

/// A Spanish social security number: province (2), number (8), mod-97 control (2).
fn ssn_es(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r]);
    if d.len() != 12 {
        return false;
    }
    let n = |s: &[u32]| s.iter().fold(0u64, |a, d| a * 10 + u64::from(*d));
    let (province, number, control) = (n(&d[..2]), n(&d[2..10]), n(&d[10..]));
    let base = if number < 10_000_000 {
        number + province * 10_000_000
    } else {
        n(&d[..10])
    };
    base % 97 == control
}

/// The control letter of a Spanish DNI / NIF / NIE.
fn dni_letter(number: u32) -> u8 {
    b"TRWAGMYFPDXBNJZSQVHLCKE"[(number % 23) as usize]
}

/// A DNI or NIF: eight digits and the control letter.
pub(super) fn dni(text: &str, r: Range<usize>) -> bool {
    let candidate = &text[r];
    let number = digits(candidate).iter().fold(0u32, |a, d| a * 10 + d);
    candidate.as_bytes().last() == Some(&dni_letter(number))
}

/// A NIE: X, Y or Z (0, 1, 2), seven digits and the control letter.
fn nie(text: &str, r: Range<usize>) -> bool {
    let candidate = &text[r];
    let lead = match candidate.as_bytes()[0] {
        b'X' => 0,
        b'Y' => 1,
        _ => 2,
    };
    let number = digits(candidate).iter().fold(lead, |a, d| a * 10 + d);
    candidate.as_bytes().last() == Some(&dni_letter(number))
}

/// An Italian codice fiscale: its check letter.
fn codice_fiscale(text: &str, r: Range<usize>) -> bool {
    const ODD: [u32; 26] = [
        1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24,
        23,
    ];
    let code = text[r].as_bytes();
    let value = |b: u8| -> u32 {
        match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            _ => u32::from(b - b'A'),
        }
    };
    let sum: u32 = code[..15]
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            if i % 2 == 0 {
                ODD[value(b) as usize]
            } else {
                value(b)
            }
        })
        .sum();
    code[15] == b'A' + (sum % 26) as u8
}

/// A German tax id (Steuer-IdNr): ISO 7064 MOD 11,10 check digit.
fn steuer_id(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r]);
    if d.len() != 11 || d[0] == 0 {
        return false;
    }
    let mut product = 10;
    for &digit in &d[..10] {
        let mut sum = (digit + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = (11 - product) % 10;
    check == d[10]
}

/// A French tax number (SPI): the last three digits are the first ten modulo 511.
fn spi(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r]);
    let n = |s: &[u32]| s.iter().fold(0u64, |a, d| a * 10 + u64::from(*d));
    d.len() == 13 && n(&d[..10]) % 511 == n(&d[10..])
}

/// A French INSEE (NIR) number: its two-digit key, 97 − (number mod 97); Corsica's 2A and
/// 2B count as 19 and 18.
pub(super) fn insee(text: &str, r: Range<usize>) -> bool {
    let compact: String = text[r].chars().filter(|c| *c != ' ').collect();
    if compact.len() != 15 {
        return false;
    }
    let body = compact[..13].replace("2A", "19").replace("2B", "18");
    let (Ok(number), Ok(key)) = (body.parse::<u64>(), compact[13..].parse::<u64>()) else {
        return false;
    };
    97 - number % 97 == key
}

/// An NHS number: ten digits, the last a mod-11 check.
fn nhs(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r]);
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d[..9].iter().zip((2..=10).rev()).map(|(d, w)| d * w).sum();
    let check = 11 - sum % 11;
    let check = if check == 11 { 0 } else { check };
    check != 10 && check == d[9]
}

/// A Canadian SIN: nine digits, Luhn, not starting with 0 or 8.
fn sin_ca(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    d.len() == 9 && !matches!(d[0], 0 | 8) && luhn(&d) && not_inside_number(text, r)
}

/// A UK National Insurance number's prefix is not one of those never issued.
fn nino(text: &str, r: Range<usize>) -> bool {
    let prefix = &text[r.start..r.start + 2];
    !matches!(prefix, "BG" | "GB" | "NK" | "KN" | "TN" | "NT" | "ZZ")
}

/// The ICAO 9303 check digit (weights 7, 3, 1) of a German ID card number, when it has one.
fn ausweis(text: &str, r: Range<usize>) -> bool {
    let code = text[r].as_bytes();
    if code.len() == 9 {
        return true;
    }
    let value = |b: u8| -> u32 {
        match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            _ => u32::from(b - b'A') + 10,
        }
    };
    let sum: u32 = code[..9]
        .iter()
        .zip([7, 3, 1].iter().cycle())
        .map(|(&b, w)| value(b) * w)
        .sum();
    u32::from(code[9] - b'0') == sum % 10
}

/// A vehicle identification number: its check digit (position 9, ISO 3779 / North America).
fn vin(text: &str, r: Range<usize>) -> bool {
    let code = text[r].as_bytes();
    let value = |b: u8| -> u32 {
        match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'H' => u32::from(b - b'A') + 1,
            b'J'..=b'N' => u32::from(b - b'J') + 1,
            b'P' => 7,
            b'R' => 9,
            b'S'..=b'Z' => u32::from(b - b'S') + 2,
            _ => 0,
        }
    };
    const WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let sum: u32 = code.iter().zip(WEIGHTS).map(|(&b, w)| value(b) * w).sum();
    let check = match sum % 11 {
        10 => b'X',
        n => b'0' + n as u8,
    };
    code[8] == check
        && code.iter().any(u8::is_ascii_digit)
        && code.iter().any(u8::is_ascii_uppercase)
}

/// Not all one digit (`00000000`, `11111111`): placeholders, not account numbers.
fn varied_digits(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    d.windows(2).any(|w| w[0] != w[1]) && not_inside_number(text, r)
}

/// A latitude and longitude pair in range.
fn lat_long(_text: &str, caps: &Captures) -> bool {
    let parse = |i: usize| caps.get(i).and_then(|m| m.as_str().parse::<f64>().ok());
    matches!((parse(2), parse(3)), (Some(lat), Some(long)) if lat.abs() <= 90.0 && long.abs() <= 180.0)
}

/// Passport number keywords in English, then the country's own.
fn passport(own: &[&'static str]) -> Vec<&'static str> {
    let mut keywords = vec![
        "passport",
        "passport number",
        "passport no",
        "passport #",
        "passport#",
        "passport num",
    ];
    keywords.extend_from_slice(own);
    keywords
}

/// The financial and personal identifiers, in the order they are applied.
pub(super) fn rules() -> Vec<Rule> {
    let iban_pattern = |country: &str| {
        format!(
            r"\b{country}\d{{2}}(?:[0-9A-Z]{{11,30}}|(?: [0-9A-Z]{{4}}){{2,7}}(?: [0-9A-Z]{{1,4}})?)\b"
        )
    };
    let mut rules = Vec::new();
    for country in ["DE", "ES", "FR", "GB", "IT"] {
        rules.push(
            Rule::new(
                &format!("BankAccountNumber-{country}"),
                &iban_pattern(country),
            )
            .check(iban),
        );
    }
    rules.extend([
        // Any other country's IBAN: the same check.
        Rule::new("BankAccountNumber", &iban_pattern("[A-Z]{2}")).check(iban),
        Rule::new(
            "CreditCardNumber",
            r"\b(?:\d{13,19}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d{4}(?:[ -]\d{3})?|\d{4}[ -]\d{6}[ -]\d{4,5}|\d{4}[ -]\d{4}[ -]\d{4}[ -]\d)\b",
        )
        .check(credit_card),
        // A UK sort code and account number.
        Rule::new(
            "BankAccountNumber-GB",
            r"\b\d{2}-\d{2}-\d{2}[ ,;/]+(?:(?i:account|acct)(?: (?i:number|no\.?))?:? )?\d{8}\b",
        )
        .near(&["sort code", "account number", "bank account", "account no", "acct"]),
        Rule::new("BankAccountNumber-US", r"\b\d{8,17}\b")
            .check(varied_digits)
            .near(&[
                "bank account",
                "account number",
                "account no",
                "account #",
                "account#",
                "acct",
                "acct no",
                "checking account",
                "savings account",
            ]),
        Rule::new(
            "CreditCardExpiration",
            r"\b(?:0[1-9]|1[0-2]) ?[/-] ?(?:20)?\d{2}\b",
        )
        .near(&[
            "exp", "exp d", "exp date", "exp m", "exp y", "expiration", "expiry", "expires",
            "valid thru", "good thru",
        ]),
        Rule::new("CreditCardSecurityCode", r"\b\d{3,4}\b")
            .check(not_inside_number)
            .near(&[
                "card id",
                "card identification code",
                "card identification number",
                "card security code",
                "card validation code",
                "card validation number",
                "card verification data",
                "card verification value",
                "security code",
                "cvc",
                "cvc2",
                "cvv",
                "cvv2",
                "csc",
                "elo verification code",
            ]),
        // Dashed ITINs and SSNs are unmistakable; plain nine digits need a keyword.
        Rule::new("IndividualTaxIdentificationNumber-US", r"\b\d{3}-\d{2}-\d{4}\b").check(itin),
        Rule::new("IndividualTaxIdentificationNumber-US", r"\b\d{3} ?\d{2} ?\d{4}\b")
            .check(itin)
            .near(&["itin", "individual taxpayer identification number", "taxpayer id"]),
        Rule::new("Ssn-US", r"\b\d{3}-\d{2}-\d{4}\b").check(ssn),
        Rule::new("Ssn-US", r"\b\d{3} ?\d{2} ?\d{4}\b").check(ssn).near(&[
            "ssn",
            "ssns",
            "ssn#",
            "ss#",
            "social security",
            "social security number",
            "social security no",
            "social sec",
        ]),
        Rule::new("Ssn-ES", r"\b\d{2}[ /-]?\d{8}[ /-]?\d{2}\b")
            .check(ssn_es)
            .near(&[
                "seguridad social",
                "número de la seguridad social",
                "numero de la seguridad social",
                "nss",
                "naf",
            ]),
        Rule::new("NationalIdentificationNumber-IT", r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]\b")
            .check(codice_fiscale),
        Rule::new(
            "InseeCode-FR",
            r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b",
        )
        .check(insee),
        Rule::new(
            "DriversLicense-GB",
            r"\b[A-Z9]{5}\d[0156]\d[0-3]\d\d[A-Z9]{2}\d[A-Z]{2}\b",
        )
        .near(&[
            "driving licence",
            "driving license",
            "driver number",
            "driver's licence",
            "drivers licence",
            "licence number",
            "dvla",
        ]),
        Rule::new(
            "DriversLicense-US",
            r"\b(?:[A-Z]{1,2}\d{5,13}|\d{7,12}|[A-Z]\d{3}-\d{3}-\d{2}-\d{3}-\d|[A-Z]\d{3}-\d{4}-\d{4}|[A-Z]\d{2}-\d{2}-\d{4})\b",
        )
        .near(&[
            "driver's license",
            "driver’s license",
            "drivers license",
            "driver license",
            "driver lic",
            "drivers lic",
            "driving license",
            "dl#",
            "dl #",
            "dl number",
            "dl no",
            "dln",
            "license number",
            "license no",
            "lic#",
        ]),
        Rule::new(
            "NationalInsuranceNumber-GB",
            r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] \d{2} \d{2} \d{2} [A-D]\b",
        )
        .check(nino),
        Rule::new(
            "NationalInsuranceNumber-GB",
            r"\b[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b",
        )
        .check(nino)
        .near(&[
            "national insurance",
            "national insurance number",
            "insurance number",
            "insurance no",
            "nino",
            "ni number",
            "ni no",
            "nic number",
        ]),
        Rule::new("NhsNumber-GB", r"\b\d{3} ?\d{3} ?\d{4}\b")
            .check(nhs)
            .near(&["nhs", "nhs number", "nhs no", "national health service"]),
        Rule::new("TaxId-DE", r"\b\d{2} ?\d{3} ?\d{3} ?\d{3}\b")
            .check(steuer_id)
            .near(&[
                "steuer-id",
                "steuer id",
                "steueridentifikationsnummer",
                "steuernummer",
                "identifikationsnummer",
                "idnr",
                "tax id",
                "tin",
            ]),
        Rule::new("TaxId-FR", r"\b[0-3]\d ?\d{2} ?\d{3} ?\d{3} ?\d{3}\b")
            .check(spi)
            .near(&[
                "numéro fiscal",
                "numero fiscal",
                "numéro d'identification fiscale",
                "spi",
                "tax id",
                "tin",
            ]),
        Rule::new("TaxId-GB", r"\b\d{5} ?\d{5}\b")
            .check(varied_digits)
            .near(&[
                "utr",
                "unique taxpayer reference",
                "tax reference",
                "taxpayer reference",
            ]),
        Rule::new("SocialInsuranceNumber-CA", r"\b\d{3}[ -]?\d{3}[ -]?\d{3}\b")
            .check(sin_ca)
            .near(&[
                "sin",
                "social insurance number",
                "social insurance",
                "numéro d'assurance sociale",
                "nas",
            ]),
        Rule::new("NieNumber-ES", r"\b[XYZ]-?\d{7}-?[A-Z]\b")
            .check(nie)
            .near(&[
                "nie",
                "número de identidad de extranjero",
                "numero de identidad de extranjero",
                "extranjero",
            ]),
        Rule::new("NifNumber-ES", r"\b\d{8}-?[A-Z]\b")
            .check(dni)
            .near(&["nif", "número de identificación fiscal", "numero de identificacion fiscal"]),
        Rule::new("NationalIdentificationNumber-ES", r"\b\d{8}-?[A-Z]\b")
            .check(dni)
            .near(&[
                "dni",
                "documento nacional de identidad",
                "national id",
                "identity card",
                "id card",
            ]),
        Rule::new(
            "NationalIdentificationNumber-DE",
            r"\b[CFGHJKLMNPRTVWXYZ][CFGHJKLMNPRTVWXYZ0-9]{8}\d?\b",
        )
        .check(ausweis)
        .near(&[
            "personalausweis",
            "personalausweisnummer",
            "ausweisnummer",
            "ausweis",
            "identity card",
            "id card",
        ]),
        Rule::new("PassportNumber-GB", r"\b\d{9}\b").near(&[
            "uk passport",
            "british passport",
            "gb passport",
            "hm passport",
        ]),
        Rule::new("PassportNumber-US", r"\b(?:[A-Z]\d{8}|\d{9})\b").near(&passport(&[
            "us passport",
            "passport card",
        ])),
        Rule::new("PassportNumber-CA", r"\b[A-Z]{2}\d{6}\b").near(&passport(&[
            "passeport",
            "canadian passport",
        ])),
        Rule::new("PassportNumber-FR", r"\b\d{2}[A-Z]{2}\d{5}\b").near(&passport(&[
            "passeport",
            "numéro de passeport",
            "numero de passeport",
        ])),
        Rule::new("PassportNumber-ES", r"\b[A-Z]{3}\d{6}\b").near(&passport(&[
            "pasaporte",
            "número de pasaporte",
            "numero de pasaporte",
        ])),
        Rule::new("PassportNumber-IT", r"\b[A-Z]{2}\d{7}\b").near(&passport(&[
            "passaporto",
            "numero passaporto",
        ])),
        Rule::new(
            "PassportNumber-DE",
            r"\b[CFGHJK][CFGHJKLMNPRTVWXYZ0-9]{8}\b",
        )
        .near(&passport(&["reisepass", "reisepassnummer", "passnummer"])),
        Rule::new(
            "DateOfBirth",
            r"(?i)\b(?:\d{1,2}[/.-]\d{1,2}[/.-](?:19|20)?\d{2}|(?:19|20)\d{2}-\d{2}-\d{2}|\d{1,2} (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? (?:19|20)\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? (?:19|20)\d{2})\b",
        )
        .near(&[
            "dob",
            "date of birth",
            "birthdate",
            "birth date",
            "birthday",
            "b-day",
            "bday",
            "born",
        ]),
        Rule::new("VehicleIdentificationNumber", r"\b[A-HJ-NPR-Z0-9]{17}\b")
            .check(vin)
            .near(&[
                "vin",
                "vin#",
                "vehicle identification number",
                "vehicle identification",
                "vehicle id",
                "chassis number",
                "fahrgestellnummer",
                "numéro d'identification du véhicule",
            ]),
        // A latitude, longitude pair near a keyword; or each after its own label.
        Rule::new(
            "LatLong",
            r"[-+]?\d{1,2}\.\d{3,}°?\s*[NS]?\s*[,;/ ]\s*[-+]?\d{1,3}\.\d{3,}°?\s*[EW]?\b",
        )
        .check_captures(|text, caps| {
            let pair = caps.get(0).map_or("", |m| m.as_str());
            let numbers: Vec<f64> = pair
                .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == '+'))
                .filter_map(|n| n.parse().ok())
                .collect();
            let start = caps.get(0).map_or(0, |m| m.start());
            numbers.len() == 2
                && numbers[0].abs() <= 90.0
                && numbers[1].abs() <= 180.0
                && !super::char_before(text, start).is_some_and(|c| c.is_ascii_digit() || c == '.')
        })
        .near(&[
            "lat", "latitude", "longitude", "lng", "coordinates", "coordinate",
            "coords", "gps", "location", "position", "geo", "geolocation", "latlong", "lat/long",
        ]),
        Rule::new(
            "LatLong",
            r#"(?i)\blat(?:itude)?["']?\s*[:=]\s*["']?(([-+]?\d{1,2}\.\d{3,})\b[^0-9]{1,24}?\b(?:lng|lon|long(?:itude)?)["']?\s*[:=]\s*["']?([-+]?\d{1,3}\.\d{3,}))"#,
        )
        .group(1)
        .check_captures(lat_long)
        .prefilter(&["lat"]),
    ]);
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(check: fn(&str, Range<usize>) -> bool, text: &str) -> bool {
        check(text, 0..text.len())
    }

    #[test]
    fn checksums() {
        assert!(whole(iban, "DE89370400440532013000"));
        assert!(whole(iban, "GB82 WEST 1234 5698 7654 32"));
        assert!(!whole(iban, "DE89370400440532013001"));
        assert!(!whole(iban, "DE8937040044053201300"), "wrong length");
        assert!(whole(ssn, "123-45-6789"));
        assert!(!whole(ssn, "666-45-6789") && !whole(ssn, "123-00-6789"));
        assert!(whole(itin, "912-70-1234") && !whole(itin, "912-40-1234"));
        assert!(whole(dni, "12345678Z") && !whole(dni, "12345678A"));
        assert!(whole(nie, "X1234567L") && !whole(nie, "X1234567A"));
        assert!(whole(codice_fiscale, "RSSMRA85T10A562S"));
        assert!(!whole(codice_fiscale, "RSSMRA85T10A562T"));
        assert!(whole(vin, "1M8GDM9AXKP042788") && !whole(vin, "1M8GDM9A1KP042788"));
        assert!(whole(nhs, "943 476 5919") && !whole(nhs, "943 476 5918"));
        assert!(whole(sin_ca, "130 692 544") && !whole(sin_ca, "130 692 545"));
        assert!(!whole(sin_ca, "046 454 286"), "no SIN starts with 0");
        assert!(whole(steuer_id, "65929970489") && !whole(steuer_id, "65929970488"));
        assert!(whole(insee, "2 69 05 49 588 157 80"));
        assert!(!whole(insee, "2 69 05 49 588 157 81"));
        assert!(whole(ssn_es, "281234567840"));
    }
}
