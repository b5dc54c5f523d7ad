//! The bridge between HTTP/1.1 messages and HTTP/2 field lists, so one handler serves both:
//! request-target and Host to pseudo-header fields (RFC 9112 §3.2, §3.3; RFC 9113 §8.3.1), and
//! the connection-specific fields HTTP/2 forbids (RFC 9110 §7.6.1, RFC 9113 §8.2.2) removed.

use super::fields::{self, trim_ows};
use super::head::RequestHead;
use super::{EncodeError, Http1Error, Version};
use crate::hpack::Header;
use bytes::Bytes;

/// Fields that only concern one HTTP/1.1 connection (RFC 9110 §7.6.1, RFC 7540 §3.2.1 for
/// HTTP2-Settings), never forwarded; `te` is handled apart.
const HOP_BY_HOP: [&[u8]; 6] = [
    b"connection",
    b"keep-alive",
    b"proxy-connection",
    b"transfer-encoding",
    b"upgrade",
    b"http2-settings",
];

impl RequestHead {
    /// This request as an HTTP/2 field list (RFC 9113 §8.3.1), for the handler that serves both
    /// protocols; `scheme` is the connection's (`"http"` or `"https"`).
    ///
    /// - `:method` is the method;
    /// - origin-form `/p?q` (RFC 9112 §3.2.1): `:scheme` = `scheme`, `:authority` = Host,
    ///   `:path` = the target;
    /// - absolute-form `s://a/p?q` (§3.2.2): `:scheme` = `s`, `:authority` = `a` (the Host field
    ///   is then ignored, as §3.2.2 requires of origin servers), `:path` = `/p?q` (`/` when
    ///   empty, `*` for OPTIONS, §3.2.4); a target with userinfo is refused (RFC 9110 §4.2.4);
    /// - authority-form (CONNECT only, §3.2.3): `:authority` alone (RFC 9113 §8.5);
    /// - asterisk-form (OPTIONS only, §3.2.4): `:path` = `*`.
    ///
    /// Then the regular fields in order, less `host`, the connection-specific ones (`connection`
    /// and every field it names, `keep-alive`, `proxy-connection`, `transfer-encoding`,
    /// `upgrade`, `http2-settings`) and `te` unless it offers `trailers`, which is sent as
    /// `te: trailers` (RFC 9113 §8.2.2).
    ///
    /// [`Http1Error::InvalidHost`] (400) for an HTTP/1.1 request without Host, more than one
    /// Host, or an invalid one (RFC 9112 §3.2); [`Http1Error::InvalidTarget`] (400) for a target
    /// whose form does not fit the method.
    pub fn to_h2_headers(&self, scheme: &str) -> Result<Vec<Header>, Http1Error> {
        let host = self.host()?;
        let mut out = Vec::with_capacity(self.headers.len() + 4);
        out.push(Header::new(":method", self.method.clone()));
        let target = &self.target[..];
        if self.method_is("CONNECT") {
            if !is_authority(target) || target.is_empty() {
                return Err(Http1Error::InvalidTarget);
            }
            out.push(Header::new(":authority", self.target.clone()));
        } else if target.first() == Some(&b'/') || target == b"*" {
            if target == b"*" && !self.method_is("OPTIONS") {
                return Err(Http1Error::InvalidTarget);
            }
            out.push(Header::new(
                ":scheme",
                Bytes::copy_from_slice(scheme.as_bytes()),
            ));
            if let Some(host) = host {
                if host.is_empty() {
                    return Err(Http1Error::InvalidHost);
                }
                out.push(Header::new(":authority", host.clone()));
            }
            out.push(Header::new(":path", self.target.clone()));
        } else {
            let uri = AbsoluteTarget::parse(&self.target).ok_or(Http1Error::InvalidTarget)?;
            out.push(Header::new(":scheme", uri.scheme));
            out.push(Header::new(":authority", uri.authority));
            let path = if !uri.path.is_empty() {
                uri.path
            } else if self.method_is("OPTIONS") {
                Bytes::from_static(b"*")
            } else {
                Bytes::from_static(b"/")
            };
            out.push(Header::new(":path", path));
        }

        let mut te_trailers = false;
        for h in &self.headers {
            let name = &h.name[..];
            if name == b"host"
                || HOP_BY_HOP.contains(&name)
                || fields::has_token(&self.headers, b"connection", name)
            {
                continue;
            }
            if name == b"te" {
                te_trailers |= offers_trailers(&h.value);
                continue;
            }
            out.push(h.clone());
        }
        if te_trailers {
            out.push(Header::new("te", Bytes::from_static(b"trailers")));
        }
        Ok(out)
    }

    /// The Host value, checked as RFC 9112 §3.2 requires: present in HTTP/1.1, at most once,
    /// and `uri-host [ ":" port ]` without userinfo.
    fn host(&self) -> Result<Option<&Bytes>, Http1Error> {
        let mut hosts = fields::values(&self.headers, b"host");
        let host = hosts.next();
        if hosts.next().is_some() || (host.is_none() && self.version == Version::Http11) {
            return Err(Http1Error::InvalidHost);
        }
        match host {
            Some(h) if !is_authority(h) => Err(Http1Error::InvalidHost),
            _ => Ok(host),
        }
    }
}

/// Whether a TE value offers `trailers` (RFC 9110 §10.1.4: `t-codings`, parameters allowed).
fn offers_trailers(value: &[u8]) -> bool {
    value.split(|&c| c == b',').any(|member| {
        let name = member.split(|&c| c == b';').next().unwrap_or_default();
        trim_ows(name).eq_ignore_ascii_case(b"trailers")
    })
}

/// RFC 3986 authority characters without userinfo: reg-name / IP-literal, then an optional port.
/// `@` is refused because userinfo in an http(s) URI is invalid (RFC 9110 §4.2.4).
fn is_authority(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| c.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=:[]".contains(&c))
}

/// An absolute-form request-target (RFC 9112 §3.2.2): `scheme "://" authority path-abempty
/// [ "?" query ]`.
struct AbsoluteTarget {
    scheme: Bytes,
    authority: Bytes,
    /// The path and query, or empty when both are.
    path: Bytes,
}

impl AbsoluteTarget {
    fn parse(target: &Bytes) -> Option<AbsoluteTarget> {
        let colon = target.iter().position(|&c| c == b':')?;
        let scheme = &target[..colon];
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1)
        if !scheme.first()?.is_ascii_alphabetic()
            || !scheme
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
            || !target[colon..].starts_with(b"://")
        {
            return None;
        }
        let start = colon + 3;
        let end = target[start..]
            .iter()
            .position(|&c| c == b'/' || c == b'?')
            .map_or(target.len(), |i| start + i);
        let authority = &target[start..end];
        if authority.is_empty() || !is_authority(authority) {
            return None;
        }
        let path = if target[end..].starts_with(b"?") {
            // path-abempty is empty but a query follows: the :path is "/?query".
            let mut path = b"/".to_vec();
            path.extend_from_slice(&target[end..]);
            Bytes::from(path)
        } else {
            target.slice(end..)
        };
        let scheme = if scheme.iter().any(u8::is_ascii_uppercase) {
            Bytes::from(scheme.to_ascii_lowercase())
        } else {
            target.slice(..colon)
        };
        Some(AbsoluteTarget {
            scheme,
            authority: target.slice(start..end),
            path,
        })
    }
}

/// An HTTP/2 response field list (RFC 9113 §8.3.2) as the status and fields of an HTTP/1.1
/// response head: `:status` becomes the status, other pseudo-header fields are dropped.
///
/// [`EncodeError::InvalidStartLine`] when `:status` is missing or not three digits.
pub fn response_head_from_h2(headers: &[Header]) -> Result<(u16, Vec<Header>), EncodeError> {
    let status = headers
        .iter()
        .find(|h| &h.name[..] == b":status")
        .and_then(|h| parse_status(&h.value))
        .ok_or(EncodeError::InvalidStartLine)?;
    let regular = headers
        .iter()
        .filter(|h| !h.name.starts_with(b":"))
        .cloned()
        .collect();
    Ok((status, regular))
}

fn parse_status(value: &[u8]) -> Option<u16> {
    match value {
        [a @ b'1'..=b'9', b @ b'0'..=b'9', c @ b'0'..=b'9'] => {
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// A chunked trailer section as HTTP/2 trailers: without connection-specific fields, which
/// HTTP/2 forbids (RFC 9113 §8.2.2), nor Content-Length, Host or TE, which a trailer section
/// must not carry (RFC 9110 §6.5.1).
pub fn trailers_to_h2(trailers: Vec<Header>) -> Vec<Header> {
    trailers
        .into_iter()
        .filter(|h| {
            let name = &h.name[..];
            !HOP_BY_HOP.contains(&name)
                && name != b"content-length"
                && name != b"host"
                && name != b"te"
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http1::{parse_request, Limits};
    use bytes::BytesMut;

    fn head(text: &str) -> RequestHead {
        parse_request(&mut BytesMut::from(text.as_bytes()), &Limits::default())
            .unwrap()
            .unwrap()
    }

    fn pairs(headers: &[Header]) -> Vec<(String, String)> {
        headers
            .iter()
            .map(|h| {
                (
                    String::from_utf8_lossy(&h.name).into_owned(),
                    String::from_utf8_lossy(&h.value).into_owned(),
                )
            })
            .collect()
    }

    fn h2(text: &str) -> Result<Vec<(String, String)>, Http1Error> {
        head(text).to_h2_headers("http").map(|h| pairs(&h))
    }

    fn p(name: &str, value: &str) -> (String, String) {
        (name.to_owned(), value.to_owned())
    }

    #[test]
    fn absolute_form_gives_scheme_authority_and_path() {
        assert_eq!(
            h2("GET HTTPS://example.com:8443?q=1 HTTP/1.1\r\nHost: ignored\r\n\r\n").unwrap(),
            [
                p(":method", "GET"),
                p(":scheme", "https"),
                p(":authority", "example.com:8443"),
                p(":path", "/?q=1"),
            ]
        );
        assert_eq!(
            h2("OPTIONS http://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n").unwrap()[3],
            p(":path", "*")
        );
        assert_eq!(
            h2("GET http://a/b/c HTTP/1.1\r\nHost: a\r\n\r\n").unwrap()[3],
            p(":path", "/b/c")
        );
        for bad in ["http://user@a/", "http:///x", "1http://a/", "http:/a", "a"] {
            let text = format!("GET {bad} HTTP/1.1\r\nHost: a\r\n\r\n");
            assert_eq!(h2(&text), Err(Http1Error::InvalidTarget), "{bad}");
        }
    }

    #[test]
    fn connect_and_asterisk_forms() {
        assert_eq!(
            h2("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n").unwrap(),
            [p(":method", "CONNECT"), p(":authority", "example.com:443")]
        );
        assert_eq!(
            h2("CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n"),
            Err(Http1Error::InvalidTarget)
        );
        assert_eq!(
            h2("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n").unwrap()[3],
            p(":path", "*")
        );
        assert_eq!(
            h2("GET * HTTP/1.1\r\nHost: a\r\n\r\n"),
            Err(Http1Error::InvalidTarget)
        );
    }

    #[test]
    fn host_rules() {
        assert_eq!(h2("GET / HTTP/1.1\r\n\r\n"), Err(Http1Error::InvalidHost));
        assert_eq!(
            h2("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
            Err(Http1Error::InvalidHost)
        );
        assert_eq!(
            h2("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n"),
            Err(Http1Error::InvalidHost)
        );
        assert_eq!(
            h2("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
            Err(Http1Error::InvalidHost)
        );
        assert_eq!(
            h2("GET / HTTP/1.0\r\n\r\n").unwrap(),
            [p(":method", "GET"), p(":scheme", "http"), p(":path", "/")]
        );
    }

    #[test]
    fn te_trailers_survives_other_te_values_do_not() {
        let with = h2("GET / HTTP/1.1\r\nHost: a\r\nTE: deflate, Trailers;q=1\r\n\r\n").unwrap();
        assert_eq!(with.last(), Some(&p("te", "trailers")));
        let without = h2("GET / HTTP/1.1\r\nHost: a\r\nTE: deflate\r\n\r\n").unwrap();
        assert!(without.iter().all(|(n, _)| n != "te"));
    }

    #[test]
    fn response_from_h2_fields() {
        let (status, headers) = response_head_from_h2(&[
            Header::new(":status", "404"),
            Header::new("content-type", "text/plain"),
        ])
        .unwrap();
        assert_eq!(status, 404);
        assert_eq!(headers, [Header::new("content-type", "text/plain")]);
        for bad in ["", "20", "2000", "099", "abc"] {
            assert_eq!(
                response_head_from_h2(&[Header::new(":status", bad)]),
                Err(EncodeError::InvalidStartLine)
            );
        }
        assert_eq!(
            response_head_from_h2(&[]),
            Err(EncodeError::InvalidStartLine)
        );
    }

    #[test]
    fn trailers_lose_forbidden_fields() {
        let kept = trailers_to_h2(vec![
            Header::new("x-checksum", "1"),
            Header::new("content-length", "5"),
            Header::new("connection", "close"),
            Header::new("grpc-status", "0"),
        ]);
        assert_eq!(
            kept,
            [
                Header::new("x-checksum", "1"),
                Header::new("grpc-status", "0")
            ]
        );
    }
}
