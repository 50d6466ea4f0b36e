//! Streaming one input in blocks through the prefilter: imperfect text (invalid UTF-8,
//! NUL bytes, over-long lines) is read anyway and noted.

use super::*;

/// Streams one input through the prefilter, collecting candidate lines. Imperfect text
/// is read anyway and noted in `quality`: invalid UTF-8 lossily, NUL bytes as spaces, and
/// a line longer than [`MAX_LINE`] on its first part. Returns 0 when the input held
/// nothing but whitespace.
pub(super) fn stream_log(
    mut input: impl std::io::Read,
    name: &str,
    pre: &Prefilter,
    col: &mut Collector,
    quality: &mut input::Quality,
) -> Result<u64> {
    let io = |source| Error::Io {
        path: name.into(),
        source,
    };
    // buf[0] is a line break, so every line searched has one before it; then come a
    // carried-over partial line (at most MAX_LINE bytes) and a chunk, and room for a
    // line break after a last line that has none.
    let mut buf: Vec<u8> = vec![0; 1 + MAX_LINE + CHUNK + 1];
    buf[0] = b'\n';
    let mut len = 0; // bytes held, in buf[1..1 + len]
    let mut parts: Vec<Part> = (0..threads()).map(|_| Part::default()).collect();
    let mut seen = Seen::default();
    let mut lines_before: u64 = 0;
    let mut content: u64 = 0;
    let mut offset: u64 = 0; // bytes of the input read so far
    let mut skipping = false; // inside a too-long line, after its first part
    let mut eof = false;
    while !eof {
        let start = len;
        let want = len + CHUNK;
        eof = read_chunk(&mut input, &mut buf, &mut len, want).map_err(io)?;
        quality.clear_nuls(&mut buf[1 + start..1 + len], offset);
        offset += (len - start) as u64;
        if skipping {
            // Drop the rest of the too-long line, through its line break.
            if !drop_long_rest(&mut buf, start, &mut len) {
                continue;
            }
            skipping = false;
        }
        if content == 0
            && buf[1 + start..1 + len]
                .iter()
                .any(|b| !b.is_ascii_whitespace())
        {
            content = 1;
        }
        let cut = whole_lines_end(&buf, start, len, eof);
        if cut > 0 {
            lines_before = scan_whole_lines(
                &mut buf,
                cut,
                name,
                lines_before,
                pre,
                &mut parts,
                &mut seen,
                col,
                quality,
            );
        }
        buf.copy_within(1 + cut..1 + len, 1);
        len -= cut;
        if len > MAX_LINE {
            // A line longer than the buffer: match its first part, skip the rest.
            quality.long_line(lines_before + 1);
            let first = input::char_prefix(&buf[1..1 + len], MAX_LINE);
            lines_before = scan_whole_lines(
                &mut buf,
                first,
                name,
                lines_before,
                pre,
                &mut parts,
                &mut seen,
                col,
                quality,
            );
            skipping = true;
            len = 0;
        }
    }
    Ok(content)
}

/// Reads into `buf[1 + len..1 + want]` until it is full or the input ends; true at the end.
fn read_chunk(
    input: &mut impl std::io::Read,
    buf: &mut [u8],
    len: &mut usize,
    want: usize,
) -> std::io::Result<bool> {
    while *len < want {
        let n = match input.read(&mut buf[1 + *len..1 + want]) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if n == 0 {
            return Ok(true);
        }
        *len += n;
    }
    Ok(false)
}

/// Drops a too-long line's rest from the block at `start`; false while its break is unread.
fn drop_long_rest(buf: &mut [u8], start: usize, len: &mut usize) -> bool {
    match memchr::memchr(b'\n', &buf[1 + start..1 + *len]) {
        Some(p) => {
            let keep_from = start + p + 1;
            buf.copy_within(1 + keep_from..1 + *len, 1 + start);
            *len -= keep_from - start;
            true
        }
        None => {
            *len = start;
            false
        }
    }
}

/// Where the whole lines held end: all of it at the end of input, else after the last break.
fn whole_lines_end(buf: &[u8], start: usize, len: usize, eof: bool) -> usize {
    if eof {
        len
    } else {
        memchr::memrchr(b'\n', &buf[1 + start..1 + len]).map_or(0, |p| start + p + 1)
    }
}

/// Scans `buf[1..1 + cut]`, which ends at a line break or at the end of the input (a
/// line break is added after it), and returns the line count after it.
#[allow(clippy::too_many_arguments)]
pub(super) fn scan_whole_lines(
    buf: &mut [u8],
    cut: usize,
    name: &str,
    lines_before: u64,
    pre: &Prefilter,
    parts: &mut [Part],
    seen: &mut Seen,
    col: &mut Collector,
    quality: &mut input::Quality,
) -> u64 {
    let block = &buf[1..1 + cut];
    quality.check_utf8(block, lines_before);
    quality.check_lengths(block, lines_before);
    let mut end = 1 + cut;
    if buf[cut] != b'\n' {
        buf[end] = b'\n';
        end += 1;
    }
    scan_block(&buf[..end], name, lines_before, pre, parts, seen, col)
}
