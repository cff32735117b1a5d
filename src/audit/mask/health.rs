//! CloudWatch's protected health information (PHI) identifiers, under CloudWatch's names:
//! US claim, beneficiary, drug, provider, DEA and procedure codes, the French carte Vitale
//! number, the European health insurance card and Canadian personal health numbers.
//!
//! CloudWatch requires a keyword for every one of them, and so do we (within 30 characters,
//! as a word). Where the format carries a check (the NPI's Luhn over `80840`, the DEA
//! number's check digit, the NIR key, the provincial health numbers' Luhn or mod 11) it is
//! verified as well, so a keyword next to an arbitrary number is not enough.

use std::ops::Range;

use super::credentials::{luhn, not_inside_number};
use super::{digits, Rule};
// A French NIR (the carte Vitale number) is the INSEE number, with the same key.
use super::pii::insee as nir;

/// A HICN: a nine-digit number as an SSN is issued (area not 000, 666 or 9xx, group and
/// serial not zero), then the beneficiary letter code.
fn hicn(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    let n = |s: &[u32]| s.iter().fold(0u32, |a, d| a * 10 + d);
    d.len() >= 9
        && !matches!(n(&d[..3]), 0 | 666 | 900..=999)
        && n(&d[3..5]) != 0
        && n(&d[5..9]) != 0
        && not_inside_number(text, r)
}

/// An NPI: ten digits starting with 1 or 2, the last a Luhn check over the number with
/// the card-issuer prefix `80840` in front (CMS's rule).
fn npi(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    if d.len() != 10 || !matches!(d[0], 1 | 2) {
        return false;
    }
    let mut full = vec![8, 0, 8, 4, 0];
    full.extend_from_slice(&d);
    luhn(&full) && not_inside_number(text, r)
}

/// A DEA registration number: two letters, six digits and a check digit, the last digit
/// of (d1 + d3 + d5) + 2 × (d2 + d4 + d6).
fn dea(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r]);
    if d.len() != 7 {
        return false;
    }
    let sum = d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5]);
    sum % 10 == d[6]
}

/// A European health insurance card number: twenty digits, the issuer prefix `80` and an
/// ISO 3166 numeric country code of an EU/EEA country or Switzerland or the UK.
fn ehic(text: &str, r: Range<usize>) -> bool {
    const COUNTRIES: &[u32] = &[
        40, 56, 100, 191, 196, 203, 208, 233, 246, 250, 276, 300, 348, 352, 372, 380, 428, 438,
        440, 442, 470, 528, 578, 616, 620, 642, 703, 705, 724, 752, 756, 826,
    ];
    let d = digits(&text[r.clone()]);
    let country = d.get(2..5).map(|c| c[0] * 100 + c[1] * 10 + c[2]);
    d.len() == 20
        && d[..2] == [8, 0]
        && country.is_some_and(|c| COUNTRIES.contains(&c))
        && not_inside_number(text, r)
}

/// A Canadian personal health number: ten digits are Ontario's (Luhn) or British
/// Columbia's (a 9, then a mod-11 check); nine digits (Alberta) and Quebec's RAMQ code
/// (four letters, eight digits) carry no check of their own.
fn phn_ca(text: &str, r: Range<usize>) -> bool {
    let value = &text[r.clone()];
    let d = digits(value);
    let checked = match d.len() {
        10 if d[0] == 9 => {
            const WEIGHTS: [u32; 8] = [2, 4, 8, 5, 10, 9, 7, 3];
            let sum: u32 = d[1..9].iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
            let check = 11 - sum % 11;
            check < 10 && check == d[9]
        }
        10 => luhn(&d),
        9 => d.windows(2).any(|w| w[0] != w[1]),
        8 => value.bytes().take(4).all(|b| b.is_ascii_uppercase()),
        _ => false,
    };
    checked && not_inside_number(text, r)
}

/// An MBI's letters leave out S, L, O, I, B and Z (they read as digits).
const MBI_LETTER: &str = "[AC-HJKMNP-RT-Y]";

/// The same letters, for inside a class.
const MBI_LETTERS: &str = "AC-HJKMNP-RT-Y";

pub(super) fn rules() -> Vec<Rule> {
    let (a, n) = (MBI_LETTER, MBI_LETTERS);
    vec![
        Rule::new(
            "HealthInsuranceClaimNumber-US",
            r"\b\d{3}-?\d{2}-?\d{4}-?[A-Z][0-9A-Z]?\b",
        )
        .check(hicn)
        .near(&[
            "health insurance claim number",
            "hic no",
            "hic no.",
            "hic number",
            "hic#",
            "hicn",
            "hicn#",
            "hicno#",
        ]),
        // CMS's format: C A AN N A AN N A A N N, often printed in groups of 4-3-4.
        Rule::new(
            "MedicareBeneficiaryNumber-US",
            &format!(
                r"\b[1-9]{a}[0-9{n}]\d-?{a}[0-9{n}]\d-?{a}{a}\d{{2}}\b"
            ),
        )
        .near(&[
            "mbi",
            "mbi#",
            "medicare beneficiary",
            "medicare beneficiary number",
            "medicare beneficiary identifier",
            "medicare number",
            "medicare id",
        ]),
        // 4-4-2, 5-3-2, 5-4-1 dashed, or the 11-digit billing form.
        Rule::new(
            "NationalDrugCode-US",
            r"\b(?:\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2}|\d{10,11})\b",
        )
        .check(not_inside_number)
        .near(&["national drug code", "ndc", "ndc#", "ndc code", "drug code"]),
        Rule::new("NationalProviderId-US", r"\b\d{10}\b")
            .check(npi)
            .near(&[
                "national provider id",
                "national provider identifier",
                "national provider",
                "npi",
                "npi#",
                "npi number",
                "hipaa",
            ]),
        Rule::new(
            "DrugEnforcementAgencyNumber-US",
            r"\b[ABCDEFGHJKLMPRSTUX][A-Z9]\d{7}\b",
        )
        .check(dea)
        .near(&["dea number", "dea registration", "dea no", "dea#"]),
        // CPT (five digits, or four and a category letter) and HCPCS level II (a letter and
        // four digits).
        Rule::new(
            "HealthcareProcedureCode-US",
            r"\b(?:[A-V]\d{4}|\d{4}[0-9FTU])\b",
        )
        .near(&[
            "current procedural terminology",
            "cpt",
            "cpt code",
            "cpt#",
            "hcpcs",
            "hcpcs code",
            "healthcare common procedure coding system",
            "procedure code",
        ]),
        Rule::new(
            "HealthInsuranceNumber-FR",
            r"\b[12] ?\d{2} ?(?:0[1-9]|1[0-2]|[2-9]\d) ?(?:\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}\b",
        )
        .check(nir)
        .near(&[
            "carte d'assuré social",
            "carte d’assuré social",
            "carte vitale",
            "insurance card",
        ]),
        Rule::new("HealthInsuranceCardNumber-EU", r"\b80\d{3} ?\d{5} ?\d{5} ?\d{5}\b")
            .check(ehic)
            .near(&[
                "assicurazione sanitaria numero",
                "carta assicurazione numero",
                "carte d'assurance maladie",
                "carte d’assurance maladie",
                "carte européenne d'assurance maladie",
                "carte européenne d’assurance maladie",
                "ceam",
                "ehic",
                "ehic#",
                "finlandehicnumber#",
                "gesundheitskarte",
                "hälsokort",
                "health card",
                "health card number",
                "health insurance card",
                "health insurance number",
                "insurance card number",
                "krankenversicherungskarte",
                "krankenversicherungsnummer",
                "medical account number",
                "numero conto medico",
                "numéro d'assurance maladie",
                "numéro d’assurance maladie",
                "numéro de carte d'assurance",
                "numéro de carte d’assurance",
                "numéro de compte medical",
                "número de cuenta médica",
                "número de seguro de salud",
                "número de tarjeta de seguro",
                "sairaanhoitokortin",
                "sairausvakuutuskortti",
                "sairausvakuutusnumero",
                "sjukförsäkring nummer",
                "sjukförsäkringskort",
                "suomi ehic-numero",
                "tarjeta de salud",
                "terveyskortti",
                "tessera sanitaria assicurazione numero",
                "versicherungsnummer",
            ]),
        Rule::new(
            "PersonalHealthNumber-CA",
            r"\b(?:\d{4}[ -]?\d{3}[ -]?\d{3}(?:[ -]?[A-Z]{2})?|\d{5}[ -]?\d{4}|[A-Z]{4} ?\d{4} ?\d{4})\b",
        )
        .check(phn_ca)
        .near(&[
            "personal health number",
            "phn",
            "health card number",
            "health number",
            "health insurance number",
            "carte santé",
            "carte d'assurance maladie",
            "numéro d'assurance maladie",
            "ramq",
            "ohip",
            "care card",
            "ahcip",
        ]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(check: fn(&str, Range<usize>) -> bool, text: &str) -> bool {
        check(text, 0..text.len())
    }

    #[test]
    fn checksums() {
        assert!(whole(npi, "1234567893") && !whole(npi, "1234567894"));
        assert!(!whole(npi, "3234567893"), "an NPI starts with 1 or 2");
        assert!(whole(dea, "AB1234563") && !whole(dea, "AB1234564"));
        assert!(whole(hicn, "536904399A") && !whole(hicn, "666904399A"));
        assert!(whole(nir, "2 69 05 49 588 157 80") && !whole(nir, "2 69 05 49 588 157 81"));
        assert!(whole(ehic, "80276 00000 12345 67890"));
        assert!(!whole(ehic, "80999 00000 12345 67890"), "no such country");
        assert!(whole(phn_ca, "9876543218"), "BC, mod 11");
        assert!(!whole(phn_ca, "9876543217"));
        assert!(whole(phn_ca, "1234-567-897 AB"), "Ontario, Luhn");
        assert!(!whole(phn_ca, "1234-567-890 AB"));
    }

    #[test]
    fn a_member_name_is_the_keyword_a_health_number_needs() {
        let m = super::super::Masker::managed();
        let mut v = serde_json::json!({
            "npi": "1234567893",
            "dea_number": "AB1234563",
            "note": "1234567893",
        });
        m.mask_json(&mut v);
        assert_eq!(v["npi"], "****(NationalProviderId-US)");
        assert_eq!(v["dea_number"], "****(DrugEnforcementAgencyNumber-US)");
        assert_eq!(v["note"], "1234567893", "no keyword, no NPI");
    }
}
