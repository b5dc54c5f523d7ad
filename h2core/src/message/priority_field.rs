//! The `priority` header field of RFC 9218 §4 and §5: a Structured Field Dictionary
//! (RFC 9651 §3.2, §4.2.2) whose members `u` (urgency) and `i` (incremental) we read.
//!
//! The parser validates the whole dictionary grammar, because an unparsable field must be
//! ignored as a whole (RFC 9651 §4.2: "fail parsing"), but keeps no value other than the two
//! members we need, so it allocates nothing.

use super::Priority9218;

/// The value of a dictionary member, as far as RFC 9218 cares: only Integers (for `u`) and
/// Booleans (for `i`) are kept; every other type is "of an unexpected type" (§4).
#[derive(Clone, Copy)]
enum Member {
    Integer(i64),
    Boolean(bool),
    Other,
}

/// Parses one field line of the `priority` dictionary and applies its members to `priority`,
/// later members overriding earlier ones (RFC 9651 §3.2: the last duplicate key wins).
///
/// Returns `None` when the line is not a valid Structured Field Dictionary; `priority` may then
/// have been partly updated and must be discarded by the caller.
pub(super) fn apply(value: &[u8], priority: &mut Priority9218) -> Option<()> {
    let mut c = Cursor { input: value };
    // RFC 9651 §4.2: discard leading SP; an empty field is an empty dictionary.
    c.skip_sp();
    if c.is_empty() {
        return Some(());
    }
    // RFC 9651 §4.2.2 Parsing a Dictionary.
    loop {
        let key = c.key()?;
        let member = if c.eat(b'=') {
            c.item_or_inner_list()?
        } else {
            c.parameters()?;
            Member::Boolean(true)
        };
        // RFC 9218 §4: parameters "with out-of-range values, or values of unexpected types
        // MUST be ignored", so such a member leaves the default, not an earlier value.
        match key {
            b"u" => {
                priority.urgency = match member {
                    Member::Integer(n) => u8::try_from(n)
                        .ok()
                        .filter(|u| *u <= Priority9218::LOWEST_URGENCY)
                        .unwrap_or(Priority9218::DEFAULT_URGENCY),
                    _ => Priority9218::DEFAULT_URGENCY,
                }
            }
            b"i" => {
                priority.incremental = match member {
                    Member::Boolean(b) => b,
                    _ => false,
                }
            }
            _ => {}
        }
        c.skip_ows();
        if c.is_empty() {
            return Some(());
        }
        if !c.eat(b',') {
            return None;
        }
        c.skip_ows();
        if c.is_empty() {
            // A trailing comma.
            return None;
        }
    }
}

/// What is left of the input.
struct Cursor<'a> {
    input: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn is_empty(&self) -> bool {
        self.input.is_empty()
    }

    fn peek(&self) -> Option<u8> {
        self.input.first().copied()
    }

    fn next_byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.input.split_first()?;
        self.input = rest;
        Some(b)
    }

    fn eat(&mut self, byte: u8) -> bool {
        if self.peek() == Some(byte) {
            self.input = &self.input[1..];
            true
        } else {
            false
        }
    }

    /// Consumes the longest prefix whose bytes satisfy `accept` and returns it.
    fn take_while(&mut self, accept: impl Fn(u8) -> bool) -> &'a [u8] {
        let n = self.input.iter().take_while(|&&b| accept(b)).count();
        let (taken, rest) = self.input.split_at(n);
        self.input = rest;
        taken
    }

    fn skip_sp(&mut self) {
        self.take_while(|b| b == b' ');
    }

    /// OWS = *( SP / HTAB ) (RFC 9110 §5.6.3), used between dictionary members.
    fn skip_ows(&mut self) {
        self.take_while(|b| b == b' ' || b == b'\t');
    }

    /// RFC 9651 §4.2.3.3 Parsing a Key: `( lcalpha / "*" ) *( lcalpha / DIGIT / "_" / "-" / "." / "*" )`.
    fn key(&mut self) -> Option<&'a [u8]> {
        match self.peek()? {
            b'a'..=b'z' | b'*' => {}
            _ => return None,
        }
        Some(
            self.take_while(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'.' | b'*')),
        )
    }

    /// RFC 9651 §4.2.1.1 Parsing an Item or Inner List.
    fn item_or_inner_list(&mut self) -> Option<Member> {
        if self.peek() == Some(b'(') {
            self.inner_list()?;
            return Some(Member::Other);
        }
        let item = self.bare_item()?;
        self.parameters()?;
        Some(item)
    }

    /// RFC 9651 §4.2.1.2 Parsing an Inner List.
    fn inner_list(&mut self) -> Option<()> {
        if !self.eat(b'(') {
            return None;
        }
        loop {
            self.skip_sp();
            if self.eat(b')') {
                return self.parameters();
            }
            self.bare_item()?;
            self.parameters()?;
            match self.peek()? {
                b' ' | b')' => {}
                _ => return None,
            }
        }
    }

    /// RFC 9651 §4.2.3.2 Parsing Parameters (values are validated, then dropped).
    fn parameters(&mut self) -> Option<()> {
        while self.eat(b';') {
            self.skip_sp();
            self.key()?;
            if self.eat(b'=') {
                self.bare_item()?;
            }
        }
        Some(())
    }

    /// RFC 9651 §4.2.3.1 Parsing a Bare Item.
    fn bare_item(&mut self) -> Option<Member> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => self.number(),
            b'"' => self.string().map(|()| Member::Other),
            b'*' | b'A'..=b'Z' | b'a'..=b'z' => {
                self.token();
                Some(Member::Other)
            }
            b':' => self.byte_sequence().map(|()| Member::Other),
            b'?' => self.boolean(),
            b'@' => self.date().map(|()| Member::Other),
            b'%' => self.display_string().map(|()| Member::Other),
            _ => None,
        }
    }

    /// RFC 9651 §4.2.4 Parsing an Integer or Decimal: at most 15 digits for an Integer; at most
    /// 12 integer digits and 1 to 3 fractional digits for a Decimal.
    fn number(&mut self) -> Option<Member> {
        let negative = self.eat(b'-');
        let int_part = self.take_while(|b| b.is_ascii_digit());
        if int_part.is_empty() {
            return None;
        }
        if self.eat(b'.') {
            let frac_part = self.take_while(|b| b.is_ascii_digit());
            if int_part.len() > 12 || frac_part.is_empty() || frac_part.len() > 3 {
                return None;
            }
            return Some(Member::Other);
        }
        if int_part.len() > 15 {
            return None;
        }
        // At most 15 digits: fits an i64 without overflow.
        let magnitude = int_part
            .iter()
            .fold(0i64, |n, &d| n * 10 + i64::from(d - b'0'));
        Some(Member::Integer(if negative {
            -magnitude
        } else {
            magnitude
        }))
    }

    /// RFC 9651 §4.2.5 Parsing a String: printable ASCII, with `\"` and `\\` escapes.
    fn string(&mut self) -> Option<()> {
        if !self.eat(b'"') {
            return None;
        }
        loop {
            match self.next_byte()? {
                b'\\' => match self.next_byte()? {
                    b'"' | b'\\' => {}
                    _ => return None,
                },
                b'"' => return Some(()),
                0x20..=0x7e => {}
                _ => return None,
            }
        }
    }

    /// RFC 9651 §4.2.6 Parsing a Token: `( ALPHA / "*" ) *( tchar / ":" / "/" )`.
    fn token(&mut self) {
        self.take_while(|b| is_tchar(b) || b == b':' || b == b'/');
    }

    /// RFC 9651 §4.2.7 Parsing a Byte Sequence: base64 between colons.
    fn byte_sequence(&mut self) -> Option<()> {
        if !self.eat(b':') {
            return None;
        }
        self.take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='));
        self.eat(b':').then_some(())
    }

    /// RFC 9651 §4.2.8 Parsing a Boolean: `?0` or `?1`.
    fn boolean(&mut self) -> Option<Member> {
        if !self.eat(b'?') {
            return None;
        }
        match self.next_byte()? {
            b'0' => Some(Member::Boolean(false)),
            b'1' => Some(Member::Boolean(true)),
            _ => None,
        }
    }

    /// RFC 9651 §4.2.9 Parsing a Date: `@` then an Integer.
    fn date(&mut self) -> Option<()> {
        if !self.eat(b'@') {
            return None;
        }
        match self.number()? {
            Member::Integer(_) => Some(()),
            _ => None,
        }
    }

    /// RFC 9651 §4.2.10 Parsing a Display String: `%"`, printable ASCII and `%` followed by two
    /// lowercase hex digits, then `"`. The decoded bytes are not checked to be UTF-8: no member
    /// we read is a Display String, so accepting a few more fields costs nothing.
    fn display_string(&mut self) -> Option<()> {
        if !(self.eat(b'%') && self.eat(b'"')) {
            return None;
        }
        loop {
            match self.next_byte()? {
                b'%' => {
                    for _ in 0..2 {
                        if !matches!(self.next_byte()?, b'0'..=b'9' | b'a'..=b'f') {
                            return None;
                        }
                    }
                }
                b'"' => return Some(()),
                0x20..=0x7e => {}
                _ => return None,
            }
        }
    }
}

/// `tchar` of RFC 9110 §5.6.2.
pub(super) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#'
                | b'$'
                | b'%'
                | b'&'
                | b'\''
                | b'*'
                | b'+'
                | b'-'
                | b'.'
                | b'^'
                | b'_'
                | b'`'
                | b'|'
                | b'~'
        )
}
