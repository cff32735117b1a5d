//! CloudWatch's driver's licence identifiers beyond the US and British ones of
//! [`super::pii`]: one per country, each only within 30 characters of a licence keyword in
//! English or the country's own language, since most formats are bare runs of digits.
//!
//! They run after [`super::pii`], so a value near a keyword two countries share goes to
//! the country listed first (the US and British rules before all of these). Spanish and
//! Swedish numbers are the holder's DNI and personnummer, so their check digits are verified
//! too; the Finnish one carries the henkilötunnus's check character. Formats are those the
//! EU countries document (as Microsoft Purview's EU licence types list them); each country's
//! keywords are its own words for the licence and its number, plus the English ones.

use std::ops::Range;

use super::credentials::{luhn, not_inside_number};
use super::pii::dni;
use super::{digits, Rule};

/// The English keywords every country's licence accepts besides its own.
const ENGLISH: &[&str] = &[
    "driver's license",
    "drivers license",
    "driver license",
    "driver's licence",
    "drivers licence",
    "driver licence",
    "driving license",
    "driving licence",
    "licence number",
    "license number",
    "dl number",
];

fn keywords(own: &[&'static str]) -> Vec<&'static str> {
    own.iter().chain(ENGLISH).copied().collect()
}

/// A Swedish personnummer (YYMMDD-NNNN or with the century), Luhn over its last ten digits.
fn personnummer(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    let d = &d[d.len().saturating_sub(10)..];
    d.len() == 10 && luhn(d) && not_inside_number(text, r)
}

/// A Finnish henkilötunnus: DDMMYY, the century sign, three digits and the remainder of
/// the nine digits mod 31 as a character.
fn henkilotunnus(text: &str, r: Range<usize>) -> bool {
    let value = text[r].as_bytes();
    let number = value[..6]
        .iter()
        .chain(&value[7..10])
        .fold(0u64, |a, b| a * 10 + u64::from(b - b'0'));
    b"0123456789ABCDEFHJKLMNPRSTUVWXY"[(number % 31) as usize] == value[10].to_ascii_uppercase()
}

pub(super) fn rules() -> Vec<Rule> {
    vec![
        // One letter or digit, two digits, six letters or digits, a digit, a letter or digit.
        Rule::new(
            "DriversLicense-DE",
            r"\b[A-Z0-9]\d{2}[A-Z0-9]{6}\d[A-Z0-9]\b",
        )
        .near(&keywords(&[
            "führerschein",
            "fuhrerschein",
            "fuehrerschein",
            "führerscheinnummer",
            "fuhrerscheinnummer",
            "fuehrerscheinnummer",
            "führerschein nr",
            "führerscheinnr",
        ])),
        Rule::new("DriversLicense-FR", r"\b\d{12}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "permis de conduire",
                "numéro de permis",
                "numero de permis",
                "n° de permis",
            ])),
        Rule::new("DriversLicense-ES", r"\b\d{8}-?[A-Z]\b")
            .check(dni)
            .near(&keywords(&[
                "carnet de conducir",
                "permiso de conducir",
                "permiso de conducción",
                "licencia de conducir",
                "número de carnet",
                "numero de carnet",
            ])),
        // Two letters, seven digits and a letter, or U1 and eight letters or digits.
        Rule::new(
            "DriversLicense-IT",
            r"\b(?:[A-Z]{2}\d{7}[A-Z]|U1[A-Z0-9]{7}[A-Z])\b",
        )
        .near(&keywords(&[
            "patente di guida",
            "patente",
            "numero patente",
            "n. patente",
        ])),
        Rule::new("DriversLicense-NL", r"\b\d{10}\b")
            .check(not_inside_number)
            .near(&keywords(&["rijbewijs", "rijbewijsnummer", "rijbewijs nr"])),
        // The states' formats: six to ten digits, or one or two letters and digits.
        Rule::new("DriversLicense-AU", r"\b(?:\d{6,10}|[A-Z]{1,2}\d{5,8})\b")
            .check(not_inside_number)
            .near(&keywords(&["driver's licence no", "dl no", "licence no"])),
        // Ontario's letter and fourteen digits, Quebec's letter and twelve, or the other
        // provinces' digits.
        Rule::new(
            "DriversLicense-CA",
            r"\b(?:[A-Z]\d{4}-?\d{5}-?\d{5}|[A-Z]\d{12}|\d{6}-\d{3})\b",
        )
        .check(not_inside_number)
        .near(&keywords(&[
            "permis de conduire",
            "numéro de permis",
            "numero de permis",
        ])),
        Rule::new("DriversLicense-PL", r"\b\d{5}/\d{2}/\d{4}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "prawo jazdy",
                "prawa jazdy",
                "numer prawa jazdy",
            ])),
        Rule::new("DriversLicense-SE", r"\b(?:\d{2})?\d{6}[-+]?\d{4}\b")
            .check(personnummer)
            .near(&keywords(&[
                "körkort",
                "korkort",
                "körkortsnummer",
                "korkortsnummer",
            ])),
        // Shares its keywords with NL and FR, which come first: a Belgian number is ten
        // digits, like a Dutch one.
        Rule::new("DriversLicense-BE", r"\b\d{10}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "permis de conduire",
                "rijbewijs",
                "führerschein",
                "numéro de permis",
            ])),
        Rule::new("DriversLicense-AT", r"\b\d{8}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "führerschein",
                "fuhrerschein",
                "fuehrerschein",
                "führerscheinnummer",
                "fuhrerscheinnummer",
            ])),
        Rule::new("DriversLicense-DK", r"\b\d{8}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "kørekort",
                "korekort",
                "kørekortnummer",
                "korekortnummer",
            ])),
        Rule::new("DriversLicense-FI", r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b")
            .check(henkilotunnus)
            .near(&keywords(&[
                "ajokortti",
                "ajokorttinumero",
                "ajokortin numero",
            ])),
        Rule::new("DriversLicense-IE", r"\b\d{6}[A-Z]{4}\b")
            .near(&keywords(&["ceadúnas tiomána", "ceadunas tiomana"])),
        // Two letters and five or six digits, or one letter and six or eight, a space and
        // a check digit: `AV-123456 7`.
        Rule::new("DriversLicense-PT", r"\b[A-Z]{1,2}-\d{5,8} \d\b").near(&keywords(&[
            "carta de condução",
            "carta de conducao",
            "número da carta",
            "numero da carta",
        ])),
        Rule::new("DriversLicense-BG", r"\b\d{9}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "шофьорска книжка",
                "свидетелство за управление",
                "номер на шофьорска книжка",
            ])),
        // Twelve digits like a French number; Greek keywords are shared with GR, whose
        // numbers have nine.
        Rule::new("DriversLicense-CY", r"\b\d{12}\b")
            .check(not_inside_number)
            .near(&keywords(&["άδεια οδήγησης", "αριθμός άδειας οδήγησης"])),
        Rule::new("DriversLicense-CZ", r"\bE[A-Z] ?\d{6}\b").near(&keywords(&[
            "řidičský průkaz",
            "ridicsky prukaz",
            "řidičák",
            "ridicak",
            "číslo řidičského průkazu",
        ])),
        Rule::new("DriversLicense-EE", r"\b[A-Z]{2}\d{6}\b").near(&keywords(&[
            "juhiluba",
            "juhiloa",
            "juhiloa number",
        ])),
        Rule::new("DriversLicense-GR", r"\b\d{9}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "άδεια οδήγησης",
                "δίπλωμα οδήγησης",
                "αριθμός άδειας οδήγησης",
            ])),
        Rule::new("DriversLicense-HR", r"\b\d{8}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "vozačka dozvola",
                "vozacka dozvola",
                "vozačka",
                "vozacka",
            ])),
        Rule::new("DriversLicense-HU", r"\b[A-Z]{2}\d{6}\b").near(&keywords(&[
            "jogosítvány",
            "jogositvany",
            "vezetői engedély",
            "vezetoi engedely",
        ])),
        Rule::new("DriversLicense-LT", r"\b\d{8}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "vairuotojo pažymėjimas",
                "vairuotojo pazymejimas",
                "vairuotojo pažymėjimo numeris",
            ])),
        // Six digits; the keywords are Belgium's, France's and Austria's too, whose numbers
        // are longer.
        Rule::new("DriversLicense-LU", r"\b\d{6}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "permis de conduire",
                "führerschein",
                "fuhrerschein",
                "fahrerlaubnis",
            ])),
        Rule::new("DriversLicense-LV", r"\b[A-Z]{3}\d{6}\b").near(&keywords(&[
            "vadītāja apliecība",
            "vaditaja aplieciba",
            "autovadītāja apliecība",
            "autovaditaja aplieciba",
        ])),
        Rule::new("DriversLicense-MT", r"\b[A-Z0-9]{2} ?\d{3} ?\d{3}\b")
            .check(not_inside_number)
            .near(&keywords(&["liċenzja tas-sewqan", "licenzja tas-sewqan"])),
        // One letter or digit and eight digits.
        Rule::new("DriversLicense-RO", r"\b[A-Z0-9]\d{8}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "permis de conducere",
                "permisul de conducere",
                "permis conducere",
            ])),
        Rule::new("DriversLicense-SI", r"\b\d{9}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "vozniško dovoljenje",
                "voznisko dovoljenje",
                "številka vozniškega dovoljenja",
            ])),
        // One letter or digit and seven digits.
        Rule::new("DriversLicense-SK", r"\b[A-Z0-9]\d{7}\b")
            .check(not_inside_number)
            .near(&keywords(&[
                "vodičský preukaz",
                "vodicsky preukaz",
                "vodičák",
                "vodicak",
            ])),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::masked;
    use super::*;

    fn whole(check: fn(&str, Range<usize>) -> bool, text: &str) -> bool {
        check(text, 0..text.len())
    }

    #[test]
    fn checks() {
        assert!(whole(personnummer, "811218-9876") && !whole(personnummer, "811218-9875"));
        assert!(whole(personnummer, "19811218-9876"));
        assert!(whole(henkilotunnus, "131052-308T") && !whole(henkilotunnus, "131052-308U"));
        assert!(
            whole(henkilotunnus, "131052B308T"),
            "the 2023 century signs"
        );
    }

    /// Where countries share a keyword, the number's shape picks the country; the US and
    /// British rules keep their values.
    #[test]
    fn a_shared_keyword_goes_to_the_country_whose_format_fits() {
        let m = super::super::Masker::managed();
        let cases = [
            ("permis de conduire 123456789012", "DriversLicense-FR"),
            ("permis de conduire 1234567890", "DriversLicense-BE"),
            ("permis de conduire 123456", "DriversLicense-LU"),
            ("permis de conduire P1234-56789-01234", "DriversLicense-CA"),
            ("rijbewijs 4012345678", "DriversLicense-NL"),
            ("Führerschein B072RRE2I55", "DriversLicense-DE"),
            ("Führerschein 12345678", "DriversLicense-AT"),
            ("άδεια οδήγησης 123456789012", "DriversLicense-CY"),
            ("άδεια οδήγησης 123456789", "DriversLicense-GR"),
            ("driver's license D1234567", "DriversLicense-US"),
            ("driving licence MORGA753116SM9IJ", "DriversLicense-GB"),
        ];
        for (text, name) in cases {
            let (keyword, value) = text.rsplit_once(' ').unwrap();
            assert_eq!(
                m.mask(text),
                format!("{keyword} {}", masked(name)),
                "{text}"
            );
            assert_eq!(m.mask(value), value, "{value} alone needs its keyword");
        }
    }
}
