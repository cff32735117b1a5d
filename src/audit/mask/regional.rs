//! CloudWatch's country identifiers beyond the financial and personal ones of [`super::pii`]:
//! Brazil's CPF, CNPJ, CEP and RG numbers, the UK electoral roll number, US ZIP codes and
//! Canadian postal codes and permanent residence numbers.
//!
//! Each needs a keyword (within 30 characters, as a word): CloudWatch requires one for the
//! Brazilian and electoral roll numbers, and a postcode or a residence card number without
//! one is any other five digits or code. The CPF's and CNPJ's two check digits and the RG's
//! (São Paulo's mod 11) are verified too; the others carry no check.

use std::ops::Range;

use super::credentials::not_inside_number;
use super::{digits, Rule};

/// One mod-11 check digit as the Receita Federal computes it: 0 when the remainder is 0
/// or 1, else 11 − remainder.
fn mod11_digit(d: &[u32], weights: &[u32]) -> u32 {
    let sum: u32 = d.iter().zip(weights).map(|(d, w)| d * w).sum();
    match sum % 11 {
        0 | 1 => 0,
        r => 11 - r,
    }
}

/// A CPF: eleven digits, the last two check digits (weights 10…2, then 11…2); the
/// all-one-digit numbers pass the check but are never issued.
fn cpf(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    d.len() == 11
        && d.windows(2).any(|w| w[0] != w[1])
        && mod11_digit(&d[..9], &[10, 9, 8, 7, 6, 5, 4, 3, 2]) == d[9]
        && mod11_digit(&d[..10], &[11, 10, 9, 8, 7, 6, 5, 4, 3, 2]) == d[10]
        && not_inside_number(text, r)
}

/// A CNPJ: fourteen digits, the last two check digits (weights 5…2 9…2, then 6…2 9…2).
fn cnpj(text: &str, r: Range<usize>) -> bool {
    let d = digits(&text[r.clone()]);
    d.len() == 14
        && d.windows(2).any(|w| w[0] != w[1])
        && mod11_digit(&d[..12], &[5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[12]
        && mod11_digit(&d[..13], &[6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]) == d[13]
        && not_inside_number(text, r)
}

/// An RG in São Paulo's form (the most common): eight digits and a check digit, 11 −
/// (Σ dᵢ × (i + 1)) mod 11, where 10 is written X and 11 is 0.
fn rg(text: &str, r: Range<usize>) -> bool {
    let value = &text[r.clone()];
    let d = digits(value);
    let last = value.as_bytes()[value.len() - 1];
    let body = if last.is_ascii_digit() {
        &d[..d.len().saturating_sub(1)]
    } else {
        &d[..]
    };
    if body.len() != 8 {
        return false;
    }
    let sum: u32 = body.iter().zip(2..).map(|(d, w)| d * w).sum();
    let check = match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        n => b'0' + n as u8,
    };
    last.to_ascii_uppercase() == check && not_inside_number(text, r)
}

pub(super) fn rules() -> Vec<Rule> {
    vec![
        Rule::new("CpfCode-BR", r"\b(?:\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})\b")
            .check(cpf)
            .near(&[
                "cadastro de pessoas fisicas",
                "cadastro de pessoas físicas",
                "cadastro de pessoa física",
                "cadastro de pessoa fisica",
                "cpf",
            ]),
        Rule::new("Cnpj-BR", r"\b(?:\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}|\d{14})\b")
            .check(cnpj)
            .near(&[
                "cadastro nacional da pessoa jurídica",
                "cadastro nacional da pessoa juridica",
                "cnpj",
            ]),
        Rule::new("CepCode-BR", r"\b\d{5}-?\d{3}\b")
            .check(not_inside_number)
            .near(&[
                "cep",
                "código de endereçamento postal",
                "codigo de endereçamento postal",
                "codigo de enderecamento postal",
            ]),
        Rule::new("RgNumber-BR", r"\b\d{2}\.?\d{3}\.?\d{3}-?[0-9Xx]\b")
            .check(rg)
            .near(&[
                "rg",
                "rg nº",
                "registro geral",
                "carteira de identidade",
                "cédula de identidade",
                "cedula de identidade",
                "identidade",
            ]),
        // A polling district (two or three letters) and the elector's number.
        Rule::new(
            "ElectoralRollNumber-GB",
            r"\b[A-Z]{2,3}[ -]?\d{1,4}(?:/\d{1,3})?\b",
        )
        .near(&[
            "electoral #",
            "electoral number",
            "electoral roll #",
            "electoral roll no.",
            "electoral roll no",
            "electoral roll number",
            "electoralrollno",
        ]),
        Rule::new("ZipCode-US", r"\b\d{5}(?:-\d{4})?\b")
            .check(not_inside_number)
            .near(&[
                "zip",
                "zip code",
                "zipcode",
                "zip+4",
                "postal code",
                "postcode",
            ]),
        // Letter digit letter, digit letter digit; D, F, I, O, Q and U never appear, W and Z
        // never first.
        Rule::new(
            "PostalCode-CA",
            r"\b[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z] ?\d[ABCEGHJ-NPRSTV-Z]\d\b",
        )
        .near(&["postal code", "code postal", "postcode", "postal"]),
        // The PR card's number (two letters, seven or eight digits) or the client id (UCI,
        // eight or ten digits) that IRCC files it under.
        Rule::new(
            "PermanentResidenceNumber-CA",
            r"\b(?:[A-Z]{2}\d{7,8}|\d{4}-?\d{4}|\d{2}-?\d{4}-?\d{4})\b",
        )
        .check(not_inside_number)
        .near(&[
            "permanent resident",
            "permanent residence",
            "permanent resident card",
            "pr card",
            "pr number",
            "pr#",
            "uci",
            "unique client identifier",
            "carte de résident permanent",
            "résident permanent",
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
        assert!(whole(cpf, "529.982.247-25") && !whole(cpf, "529.982.247-24"));
        assert!(!whole(cpf, "111.111.111-11"), "all one digit");
        assert!(whole(cnpj, "11.222.333/0001-81") && !whole(cnpj, "11.222.333/0001-82"));
        assert!(whole(rg, "24.678.131-2") && !whole(rg, "24.678.131-5"));
    }

    #[test]
    fn a_member_name_is_the_keyword_a_brazilian_number_needs() {
        let m = super::super::Masker::managed();
        let mut v = serde_json::json!({"cpf": "529.982.247-25", "cnpj": 11222333000181_u64});
        m.mask_json(&mut v);
        assert_eq!(v["cpf"], "****(CpfCode-BR)");
        assert_eq!(v["cnpj"], "****(Cnpj-BR)");
    }
}
