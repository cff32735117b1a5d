//! Undoes what Slack, phones and rich-text editors do to a typed command, so the parser sees
//! what the user meant to type.
//!
//! Slack sends `&`, `<` and `>` as entities and wraps anything that looks like a link in
//! `<url|label>`; phones turn `--` into an em dash and straight quotes into curly ones; people
//! paste commands in backticks. None of that is meant as part of the command.
//!
//! Invisible and look-alike characters are left alone on purpose: the guard refuses them in
//! names rather than guessing what was meant.

/// The command text as the user meant it, without a leading `@aws`.
pub fn normalize(text: &str) -> String {
    let text = resolve_markup(text);
    let text = unescape_entities(&text);
    let text = strip_code_formatting(&text);
    let text: String = text
        .chars()
        .map(|c| match c {
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{00AB}' | '\u{00BB}' => '"',
            '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' => '\'',
            '\u{00A0}' | '\u{2007}' | '\u{202F}' => ' ',
            c => c,
        })
        .collect();
    let text = dashes_to_double_hyphen(&text);
    strip_mention(text.trim()).trim().to_owned()
}

/// `<http://x|label>` → `label`, `<http://x>` → `http://x`, `<mailto:a@b|a@b>` → `a@b`,
/// `<#C123|ops>` → `#ops`, `<@U123>` → `@U123`, `<!here>` → `@here`.
fn resolve_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('>') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let (target, label) = match inner.split_once('|') {
            Some((target, label)) => (target, Some(label)),
            None => (inner, None),
        };
        match (target.chars().next(), label) {
            (Some('#'), Some(label)) => {
                out.push('#');
                out.push_str(label);
            }
            (Some('@'), Some(label)) => {
                out.push('@');
                out.push_str(label);
            }
            (Some('@' | '#'), None) => out.push_str(target),
            (Some('!'), _) => {
                out.push('@');
                out.push_str(label.unwrap_or(&target[1..]));
            }
            (_, Some(label)) => out.push_str(label),
            (_, None) => out.push_str(target.strip_prefix("mailto:").unwrap_or(target)),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn unescape_entities(text: &str) -> String {
    // `&amp;` last, so `&amp;lt;` stays the literal text `&lt;`.
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Removes Slack code formatting around the command: ```` ```…``` ```` and `` `…` ``.
fn strip_code_formatting(text: &str) -> String {
    let trimmed = text.trim();
    if let Some(inner) = trimmed
        .strip_prefix("```")
        .and_then(|t| t.strip_suffix("```"))
    {
        return inner.trim().to_owned();
    }
    if !text.contains('`') {
        return text.to_owned();
    }
    // Inline code spans are formatting only when they pair up; a lone backtick is left for the
    // guard, which refuses it as command substitution.
    if text.matches('`').count() % 2 == 0 {
        text.replace('`', "")
    } else {
        text.to_owned()
    }
}

/// `—option` and `–option` (what phones make of `--option`) become `--option`. Only at the start
/// of a word and before a letter, so dashes inside values are kept.
fn dashes_to_double_hyphen(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    let mut prev: Option<char> = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let word_start = prev.is_none_or(char::is_whitespace);
        if matches!(c, '\u{2014}' | '\u{2013}' | '\u{2012}' | '\u{2015}')
            && word_start
            && chars
                .peek()
                .is_some_and(|n| n.is_ascii_alphabetic() || *n == '-')
        {
            out.push_str("--");
            if chars.peek() == Some(&'-') {
                chars.next();
            }
        } else {
            out.push(c);
        }
        prev = Some(c);
    }
    out
}

fn strip_mention(text: &str) -> &str {
    for prefix in ["@aws ", "@aws\n", "@aws\t"] {
        if text
            .get(..prefix.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
        {
            return &text[prefix.len()..];
        }
    }
    if text.eq_ignore_ascii_case("@aws") {
        return "";
    }
    text
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn table() {
        let cases = [
            ("@aws lambda list-functions", "lambda list-functions"),
            ("lambda list-functions", "lambda list-functions"),
            ("@AWS  lambda list-functions ", "lambda list-functions"),
            (
                "@aws lambda get-function --function-name <http://my.fn|my.fn>",
                "lambda get-function --function-name my.fn",
            ),
            (
                "support x --email <mailto:a@b.c|a@b.c>",
                "support x --email a@b.c",
            ),
            (
                "x --url <https://example.com>",
                "x --url https://example.com",
            ),
            ("x --a &amp;&amp; y", "x --a && y"),
            ("x &lt;tag&gt;", "x <tag>"),
            ("x &amp;lt;", "x &lt;"),
            (
                "cloudwatch describe-alarms —state-value ALARM",
                "cloudwatch describe-alarms --state-value ALARM",
            ),
            (
                "cloudwatch describe-alarms –state ALARM",
                "cloudwatch describe-alarms --state ALARM",
            ),
            ("invoke f —-payload 1", "invoke f --payload 1"),
            ("x --p “a b”", "x --p \"a b\""),
            ("x --p ‘a b’", "x --p 'a b'"),
            ("`lambda list-functions`", "lambda list-functions"),
            ("```lambda list-functions```", "lambda list-functions"),
            ("x --note \"a — b\"", "x --note \"a — b\""),
            ("x\u{a0}--y", "x --y"),
            ("in <#C123|ops> for <@U1>", "in #ops for @U1"),
            ("unclosed <tag", "unclosed <tag"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(input), expected, "{input}");
        }
    }

    #[test]
    fn a_lone_backtick_is_kept_for_the_guard() {
        assert_eq!(normalize("x `id"), "x `id");
    }

    #[test]
    fn invisible_characters_are_kept() {
        assert_eq!(normalize("lam\u{200B}bda x"), "lam\u{200B}bda x");
    }
}
