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

/// Removes Slack code formatting where it wraps the whole command (```` ```…``` ```` or
/// `` `…` ``) or a whole argument (`` --function-name `my-fn` ``). Backticks inside quotes are
/// the command's own (JMESPath literals: ``--query 'Functions[?Runtime==`python3.12`]'``) and
/// are kept; so is a backtick that wraps nothing whole, which the guard refuses as command
/// substitution.
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
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut quote: Option<char> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '`') if i == 0 || chars[i - 1].is_whitespace() => {
                if let Some(end) = code_span_end(&chars, i + 1) {
                    out.extend(&chars[i + 1..end]);
                    i = end + 1;
                    continue;
                }
            }
            _ => {}
        }
        out.push(c);
        i += 1;
    }
    out
}

/// The index of the backtick closing a code span whose content starts at `start`: the first
/// one outside the content's own quotes that ends a word.
fn code_span_end(chars: &[char], start: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, &c) in chars.iter().enumerate().skip(start) {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '`') => {
                return (i > start && chars.get(i + 1).is_none_or(|n| n.is_whitespace()))
                    .then_some(i);
            }
            _ => {}
        }
    }
    None
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
        assert_eq!(normalize("x a`id`"), "x a`id`");
        assert_eq!(normalize("x `id`b"), "x `id`b");
    }

    /// Issue 9: code formatting goes only where it wraps the whole command or a whole
    /// argument; JMESPath backtick literals inside a quoted `--query` stay.
    #[test]
    fn issue_9_code_formatting_only_around_whole_words() {
        let query =
            "lambda list-functions --query 'Functions[?Runtime==`nodejs18.x`].FunctionName'";
        let cases = [
            (query.to_owned(), query),
            (format!("@aws {query}"), query),
            (format!("`{query}`"), query),
            (format!("@aws `{query}`"), query),
            (format!("```{query}```"), query),
            (format!("```\n{query}\n```"), query),
            (
                "lambda get-function --function-name `myHelloWorld`".to_owned(),
                "lambda get-function --function-name myHelloWorld",
            ),
            (
                "lambda get-function `--function-name myHelloWorld`".to_owned(),
                "lambda get-function --function-name myHelloWorld",
            ),
            (
                "x --query \"a[?b==`1`]\" --y `z`".to_owned(),
                "x --query \"a[?b==`1`]\" --y z",
            ),
            ("`myHelloWorld`".to_owned(), "myHelloWorld"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize(&input), expected, "{input}");
        }
    }

    #[test]
    fn invisible_characters_are_kept() {
        assert_eq!(normalize("lam\u{200B}bda x"), "lam\u{200B}bda x");
    }
}
