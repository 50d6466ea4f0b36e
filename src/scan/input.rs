//! What `scan` noticed about imperfect input, as grep and ripgrep would carry on past it:
//! bytes that are not UTF-8 (read as U+FFFD), lines longer than the line limit (matched
//! on their first part) and NUL bytes (binary data, read as spaces). Each kind is said
//! once per input, with a count and the first position.

use super::MAX_LINE;

/// Counts and first positions for one input.
#[derive(Debug, Default)]
pub struct Quality {
    /// Invalid UTF-8 sequences, and the first one's line and column.
    bad_utf8: u64,
    bad_utf8_at: Option<(u64, usize)>,
    /// Lines longer than [`MAX_LINE`], and the first one's number.
    long_lines: u64,
    long_line_at: Option<u64>,
    /// NUL bytes, and the first one's byte offset.
    nuls: u64,
    nul_at: Option<u64>,
}

impl Quality {
    /// Replaces NUL bytes in a freshly read piece with spaces, counting them; `offset` is
    /// the piece's position in the input.
    pub fn clear_nuls(&mut self, piece: &mut [u8], offset: u64) {
        for (i, b) in piece.iter_mut().enumerate() {
            if *b == 0 {
                *b = b' ';
                self.nuls += 1;
                self.nul_at.get_or_insert(offset + i as u64);
            }
        }
    }

    /// Counts the invalid UTF-8 sequences of a block of whole lines.
    pub fn check_utf8(&mut self, block: &[u8], lines_before: u64) {
        if std::str::from_utf8(block).is_ok() {
            return;
        }
        let mut at = 0;
        for chunk in block.utf8_chunks() {
            at += chunk.valid().len();
            if !chunk.invalid().is_empty() {
                self.bad_utf8 += 1;
                if self.bad_utf8_at.is_none() {
                    let upto = &block[..at];
                    let line = lines_before + memchr::memchr_iter(b'\n', upto).count() as u64 + 1;
                    let start = memchr::memrchr(b'\n', upto).map_or(0, |p| p + 1);
                    let col = String::from_utf8_lossy(&upto[start..]).chars().count() + 1;
                    self.bad_utf8_at = Some((line, col));
                }
            }
            at += chunk.invalid().len();
        }
    }

    /// Counts the lines of a block of whole lines that are longer than the limit.
    pub fn check_lengths(&mut self, block: &[u8], lines_before: u64) {
        if block.len() <= MAX_LINE {
            return;
        }
        let mut line_start = 0;
        let mut line_no = lines_before;
        for p in memchr::memchr_iter(b'\n', block).chain(std::iter::once(block.len())) {
            line_no += 1;
            if p - line_start > MAX_LINE {
                self.long_line(line_no);
            }
            line_start = p + 1;
        }
    }

    /// Records one line longer than the limit.
    pub fn long_line(&mut self, line_no: u64) {
        self.long_lines += 1;
        self.long_line_at.get_or_insert(line_no);
    }

    /// One note per kind of imperfection, naming the input.
    pub fn notes(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        if let Some((line, col)) = self.bad_utf8_at {
            out.push(format!(
                "{name}: {} (first at {line}:{col}), read as U+FFFD",
                plural(
                    self.bad_utf8,
                    "invalid UTF-8 sequence",
                    "invalid UTF-8 sequences"
                )
            ));
        }
        if let Some(line) = self.long_line_at {
            out.push(format!(
                "{name}: {} longer than {} MiB (first: line {line}), matched on their first {} MiB",
                plural(self.long_lines, "line", "lines"),
                MAX_LINE >> 20,
                MAX_LINE >> 20
            ));
        }
        if let Some(at) = self.nul_at {
            out.push(format!(
                "{name}: looks binary: {} (first at byte {at}), read as spaces",
                plural(self.nuls, "NUL byte", "NUL bytes")
            ));
        }
        out
    }
}

/// The longest prefix of `line` of at most `max` bytes that does not split a UTF-8
/// character (the cut may still fall inside invalid bytes, which are read lossily).
pub fn char_prefix(line: &[u8], max: usize) -> usize {
    if line.len() <= max {
        return line.len();
    }
    let mut cut = max;
    while cut > 0 && max - cut < 3 && (line[cut] & 0b1100_0000) == 0b1000_0000 {
        cut -= 1;
    }
    cut
}
