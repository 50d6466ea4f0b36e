//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per
//! finding and file position (`file=`, `line=`, `col=`, `title=`), as ruff and other
//! linters print them, so findings appear on the pull request's diff. A finding without a
//! file position is one annotation without `file`. Reads the report only.

use crate::report::{Finding, Report};
use crate::rules::Severity;

/// Renders the report as workflow commands, one per line.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let placed: Vec<_> = f.evidence.iter().filter(|e| e.file.is_some()).collect();
        if placed.is_empty() {
            out.push_str(&command(f, None));
        }
        for e in placed {
            let at = (
                e.file.as_deref().unwrap_or_default(),
                e.line.unwrap_or(1),
                e.column,
            );
            out.push_str(&command(f, Some(at)));
        }
    }
    out
}

fn command(f: &Finding, at: Option<(&str, usize, Option<usize>)>) -> String {
    let kind = match f.severity {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "notice",
    };
    let mut props = Vec::new();
    if let Some((file, line, col)) = at {
        props.push(format!("file={}", property(file)));
        props.push(format!("line={line}"));
        if let Some(c) = col {
            props.push(format!("col={c}"));
        }
    }
    props.push(format!(
        "title={}",
        property(&format!("{} {}", f.rule, f.title))
    ));
    format!("::{kind} {}::{}\n", props.join(","), data(&f.message))
}

/// Escapes a message: `%`, CR and LF.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as a message, plus `:` and `,`.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_the_workflow_command_rules() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done%0D%0Anext");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
