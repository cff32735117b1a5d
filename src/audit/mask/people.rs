//! CloudWatch's `Name` and `Address`, found by rules rather than a model: a name is one or
//! more capitalised words right after a word that introduces a person (`Dear`, `name:`,
//! `customer`, an honorific…); an address is a house number and capitalised words ending in
//! a street type (`Street`, `Ave`, `Road`…), or the continental spellings (`Hauptstraße 5`,
//! `12 rue de la Paix`, `Calle Mayor 5`), with the unit, town, state and postcode that
//! follow. Capitalised words that are not names (`Team`, `Support`, `Lambda`…) are left
//! alone. Recall and precision are measured on the corpus, not claimed.

use regex::Captures;

use super::Rule;

/// Capitalised words that follow a name's keyword but are not a person's name.
const NOT_NAMES: &[&str] = &[
    "A",
    "About",
    "Access",
    "Account",
    "Admin",
    "Administrator",
    "Alarm",
    "All",
    "Amazon",
    "An",
    "And",
    "Api",
    "App",
    "Application",
    "Assistant",
    "Auto",
    "Aws",
    "AWS",
    "Best",
    "Billing",
    "Bot",
    "Bucket",
    "Business",
    "Case",
    "Center",
    "Centre",
    "Cloud",
    "CloudWatch",
    "Cluster",
    "Company",
    "Console",
    "Contact",
    "Corp",
    "Customer",
    "Customers",
    "Data",
    "Dear",
    "Default",
    "Department",
    "Dept",
    "Dev",
    "Development",
    "Disabled",
    "Enabled",
    "Engineering",
    "Error",
    "Everyone",
    "Failed",
    "Friend",
    "Function",
    "Functions",
    "Group",
    "Hello",
    "Help",
    "Hi",
    "Id",
    "In",
    "Inc",
    "Info",
    "Instance",
    "Key",
    "Kind",
    "Lambda",
    "Ltd",
    "Llc",
    "Madam",
    "Manager",
    "Member",
    "Members",
    "Name",
    "New",
    "No",
    "None",
    "Not",
    "Number",
    "Of",
    "Old",
    "On",
    "Ops",
    "Or",
    "Owner",
    "Please",
    "Policy",
    "Prod",
    "Production",
    "Queue",
    "Regards",
    "Request",
    "Role",
    "Sales",
    "Service",
    "Services",
    "Sir",
    "Slack",
    "Sincerely",
    "Staging",
    "Stack",
    "Status",
    "Success",
    "Support",
    "System",
    "Team",
    "Test",
    "Thanks",
    "The",
    "There",
    "This",
    "Ticket",
    "To",
    "Topic",
    "Unknown",
    "User",
    "Users",
    "Valued",
    "We",
    "Welcome",
    "World",
    "Yes",
    "You",
    "Your",
];

/// Every word of the captured name is a plausible part of a person's name.
fn looks_like_a_name(_text: &str, caps: &Captures) -> bool {
    let Some(name) = caps.get(1) else {
        return false;
    };
    name.as_str()
        .split([' ', '-', '\'', '’'])
        .filter(|w| !w.is_empty())
        .all(|w| {
            let w = w.trim_end_matches('.');
            !NOT_NAMES.contains(&w) && !w.chars().skip(1).any(|c| c.is_ascii_uppercase())
        })
}

/// A capitalised word of a name (`Jane`, `O'Brien`, `Anne-Marie`, `José`).
const WORD: &str = r"[A-Z](?:[a-zà-ÿ]+|['’][A-Z][a-zà-ÿ]+)(?:-[A-Z]?[a-zà-ÿ]+)?";

pub(super) fn rules() -> Vec<Rule> {
    let initial = r"[A-Z]\.";
    let name_of = |min_words: usize| {
        format!(
            r"((?:{WORD}|{initial})(?: (?:{WORD}|{initial})){{{lo},3}})",
            lo = min_words - 1
        )
    };
    let street_types = r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Close|Square|Sq|Parkway|Pkwy|Highway|Hwy|Crescent|Cres|Circle|Cir|Trail|Row|Mews|Gardens|Grove|Walk|Plaza|Loop";
    // The unit, town, state or county and postcode that may follow a street.
    let tail = r"(?:,? (?:Apt|Apartment|Suite|Ste|Unit|Flat|Floor|#)\.? ?[0-9A-Za-z-]+)?(?:,? [A-Z][a-z]+(?: [A-Z][a-z]+){0,2})?(?:,? [A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b|(?:,? [A-Z]{2}\b)?(?:,? \d{5}(?:-\d{4})?\b)?)";
    let continental_tail = r"(?:,? \d{4,5} [A-Z][a-zà-ÿ]+(?:[ -][A-Z][a-zà-ÿ]+)?)?";
    vec![
        Rule::new(
            "Address",
            &format!(
                r"\b\d{{1,5}}[A-Za-z]?(?:-\d{{1,5}})?,? (?:(?:[A-Z][a-z]+|\d{{1,3}}(?:st|nd|rd|th))\.? ){{1,4}}(?:{street_types})\b\.?(?: (?:N|S|E|W|NE|NW|SE|SW)\b)?{tail}"
            ),
        ),
        Rule::new(
            "Address",
            &format!(r"\b(?:P\.? ?O\.? Box|Postfach) \d{{1,6}}\b{tail}"),
        )
        .prefilter(&["box", "postfach"]),
        Rule::new(
            "Address",
            &format!(
                r"\b[A-Z][a-zäöüß]+(?:straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer)(?: \d{{1,4}}[a-z]?)\b{continental_tail}"
            ),
        )
        .prefilter(&["straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "ring", "damm", "ufer"]),
        Rule::new(
            "Address",
            &format!(
                r"\b\d{{1,4}}(?: ?(?:bis|ter))?,? (?i:rue|avenue|boulevard|bd|place|chemin|allée|impasse|quai|calle|avenida|plaza|paseo|via|viale|piazza|corso) (?:(?:de|du|des|la|le|les|del|della|di|d'|l')[ ']?)*[A-Z][a-zà-ÿ'-]+(?: [A-Z][a-zà-ÿ'-]+){{0,3}}{continental_tail}"
            ),
        )
        .prefilter(&[
            "rue", "avenue", "boulevard", "bd", "place", "chemin", "allée", "impasse", "quai",
            "calle", "avenida", "plaza", "paseo", "via", "piazza", "corso",
        ]),
        Rule::new(
            "Address",
            &format!(
                r"\b(?:Calle|Avenida|Plaza|Paseo|Via|Viale|Piazza|Corso) (?:(?:de|del|della|di|la) )*[A-Z][a-zà-ÿ]+(?: [A-Z][a-zà-ÿ]+){{0,2}},? \d{{1,4}}\b{continental_tail}"
            ),
        )
        .prefilter(&["calle", "avenida", "plaza", "paseo", "via", "piazza", "corso"]),
        // An honorific and the name after it.
        Rule::new(
            "Name",
            &format!(
                r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Dame|Herr|Frau|Mme|Mlle|Sr|Sra|Srta)\.? {}",
                name_of(1)
            ),
        )
        .prefilter(&[
            "mr", "ms", "miss", "mx", "dr", "prof", "dame", "herr", "frau", "mme", "mlle", "sr",
        ])
        .group(1)
        .check_captures(looks_like_a_name),
        // Words that introduce a person, then at least two capitalised words.
        Rule::new(
            "Name",
            &format!(
                r#"(?:\b(?i:dear|full[ _-]?name|name(?: is)?|customer|contact|cardholder|card holder|account holder|signed|regards|sincerely|thanks|thank you|patient|employee|applicant|requester|requested by|submitted by|reported by|opened by|assigned to|owner|recipient|attn)|(?i:customer|contact|full|holder|person|patient|employee)Name)["']?[:,]?\s*["']?\s*{}"#,
                name_of(2)
            ),
        )
        .prefilter(&[
            "dear", "name", "customer", "contact", "holder", "signed", "regards", "sincerely",
            "thank", "patient", "employee", "applicant", "requester", "requested", "submitted",
            "reported", "opened", "assigned", "owner", "recipient", "attn",
        ])
        .group(1)
        .check_captures(looks_like_a_name),
        // A labelled first or last name, or a greeting, may be one word.
        Rule::new(
            "Name",
            &format!(
                r#"\b(?:(?i:first[ _-]?name|given[ _-]?name|last[ _-]?name|surname|family[ _-]?name|forename)["']?\s*[:=]\s*["']?({WORD})|(?:Dear|Hi|Hello|Hey) ({WORD})[,!])"#
            ),
        )
        .check_captures(|text, caps| {
            let Some(m) = caps.get(1).or_else(|| caps.get(2)) else {
                return false;
            };
            !NOT_NAMES.contains(&m.as_str()) && !text.is_empty()
        })
        .prefilter(&["name", "dear", "hi", "hello", "hey"])
        .group_first(),
    ]
}
