//! The prefilter over many messages at once: the engine's gate asks it about every log
//! record of a snapshot. The messages are laid end to end between line breaks, as
//! `scan` lays out a block, so the literal automaton, the literal-less union and the
//! exotic-character finders each make one pass over all of them instead of one search
//! (with its setup) per message. The answer for each message is the one
//! [`Prefilter::candidates`] gives for it alone.

use super::*;

impl Prefilter {
    /// [`Prefilter::candidates`] for each of `messages`, in order.
    pub fn candidates_many(&self, messages: &[&str]) -> Vec<Option<Vec<u32>>> {
        let (hay, starts) = lay_out(messages);
        // Which message a position of `hay` is in (the break before it counts as its).
        let owner = |pos: usize| starts.partition_point(|&s| s <= pos).saturating_sub(1);
        let mut out: Vec<Option<Vec<u32>>> = vec![Some(Vec::new()); messages.len()];
        for f in &self.exotic {
            for pos in f.find_iter(&hay) {
                out[owner(pos)] = None;
            }
        }
        if let Some(lits) = &self.lits {
            for m in lits.automaton(hay.len()).find_overlapping_iter(&hay[..]) {
                // A literal that begins with a line break is for the message after it.
                let at = m.start() + usize::from(hay[m.start()] == b'\n');
                if let Some(Some(c)) = out.get_mut(owner(at)) {
                    c.extend_from_slice(&self.lit_pats[m.pattern().as_usize()]);
                }
            }
        }
        if let Some(rest) = &self.rest {
            // A match may run past its message's end; the next search starts at the next
            // message, so that message's own match is never skipped.
            let mut from = 0;
            while let Some(m) = rest.find(regex_automata::Input::new(&hay).range(from..)) {
                let i = owner(m.start());
                if let Some(Some(c)) = out.get_mut(i) {
                    c.extend_from_slice(&self.rest_pats);
                }
                match starts.get(i + 1) {
                    Some(&next) => from = next,
                    None => break,
                }
            }
        }
        for c in out.iter_mut().flatten() {
            c.sort_unstable();
            c.dedup();
        }
        out
    }
}

/// `\n` + each message + `\n` ... and where each message's leading break is.
fn lay_out(messages: &[&str]) -> (Vec<u8>, Vec<usize>) {
    let total: usize = messages.iter().map(|m| m.len() + 1).sum();
    let mut hay = Vec::with_capacity(total + 1);
    let mut starts = Vec::with_capacity(messages.len());
    for m in messages {
        starts.push(hay.len());
        hay.push(b'\n');
        hay.extend_from_slice(m.as_bytes());
    }
    hay.push(b'\n');
    (hay, starts)
}
