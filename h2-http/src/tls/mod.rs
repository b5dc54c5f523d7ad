//! TLS with ALPN (RFC 7301), independent of any runtime: the rustls configs every adapter
//! serves and connects with. `h2` selects HTTP/2 (RFC 9113 §3.2); `http/1.1` or no ALPN selects
//! the HTTP/1.1 path. Every config here uses rustls's `ring` provider, so the build needs only
//! a C compiler. Enabled by the `tls` feature.
//!
//! [`Records`] runs a session's records without sockets, for an adapter that drives rustls
//! itself; [`client_handshake`] is a client's handshake on a thread that blocks.

mod records;

pub use records::{Received, Records};

use h2core::shell::pool::OPEN_TIMEOUT;
/// The rustls these configs are made with, so callers name the same types.
pub use rustls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};
use std::sync::Arc;

/// The ALPN protocol id of HTTP/2 over TLS.
pub const ALPN_H2: &[u8] = b"h2";
/// The ALPN protocol id of HTTP/1.1.
pub const ALPN_HTTP11: &[u8] = b"http/1.1";

/// A server config from a certificate chain and key (PEM), offering `h2` then `http/1.1`.
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivateKeyDer;
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("certificate: {e}"))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| format!("key: {e}"))?;
    let mut config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| e.to_string())?;
    config.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
    Ok(Arc::new(config))
}

/// Makes sure a server config offers ALPN `h2` and `http/1.1` (RFC 9113 §3.2): a config that
/// lists no protocol would select none, and every client would get HTTP/1.1. A config that
/// lists some is returned as it is.
pub fn with_alpn(config: Arc<ServerConfig>) -> Arc<ServerConfig> {
    if config.alpn_protocols.is_empty() {
        let mut c = (*config).clone();
        c.alpn_protocols = vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()];
        Arc::new(c)
    } else {
        config
    }
}

/// A client config asking for `h2` by ALPN that accepts ANY certificate: for tests and
/// `--insecure` only.
pub fn insecure_client_config() -> Arc<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyCert(provider)))
        .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Arc::new(config)
}

/// A client config trusting `roots` (PEM certificates), asking for `h2` by ALPN.
pub fn client_config_with_roots(roots_pem: &[u8]) -> Result<Arc<ClientConfig>, String> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(roots_pem) {
        roots
            .add(cert.map_err(|e| format!("certificate: {e}"))?)
            .map_err(|e| e.to_string())?;
    }
    let mut config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    Ok(Arc::new(config))
}

/// A client's TLS handshake on a blocking `socket`, within [`OPEN_TIMEOUT`] (read and write
/// timeouts, cleared after): HTTP/2 over TLS only once ALPN selected `h2` (RFC 9113 §3.2), a
/// server that offers none of our protocols is the same error (RFC 7301 §3.2). What rustls
/// still holds (our Finished) is left for the connection's first flush.
pub fn client_handshake(
    socket: &mut std::net::TcpStream,
    config: &Arc<ClientConfig>,
    name: &ServerName<'static>,
) -> Result<rustls::ClientConnection, crate::Error> {
    use crate::Error;
    let mut session = rustls::ClientConnection::new(config.clone(), name.clone())
        .map_err(|e| Error::Io(std::io::Error::other(e)))?;
    socket.set_read_timeout(Some(OPEN_TIMEOUT))?;
    socket.set_write_timeout(Some(OPEN_TIMEOUT))?;
    // Bounded: each round trip of the handshake is one call (TLS 1.2 needs two).
    for _ in 0..8 {
        if !session.is_handshaking() {
            break;
        }
        if let Err(e) = session.complete_io(socket) {
            let alert = e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
            if let Some(rustls::Error::AlertReceived(
                rustls::AlertDescription::NoApplicationProtocol,
            )) = alert
            {
                // The server offers none of our protocols: it did not select h2.
                crate::client::alpn_h2(None)?;
            }
            return Err(e.into());
        }
    }
    if session.is_handshaking() {
        return Err(Error::Io(std::io::ErrorKind::TimedOut.into()));
    }
    socket.set_read_timeout(None)?;
    socket.set_write_timeout(None)?;
    crate::client::alpn_h2(session.alpn_protocol())?;
    Ok(session)
}

/// Accepts every server certificate (signatures are still checked, so the handshake itself is
/// sound): what `--insecure` means, never a default.
#[derive(Debug)]
struct AcceptAnyCert(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for AcceptAnyCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{ClientConnection, ServerConnection};

    fn self_signed() -> (Vec<u8>, Vec<u8>) {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("rcgen");
        (
            cert.cert.pem().into_bytes(),
            cert.signing_key.serialize_pem().into_bytes(),
        )
    }

    /// Runs a handshake in memory; returns the ALPN protocol both sides agreed on.
    fn handshake(server: Arc<ServerConfig>, client: Arc<ClientConfig>) -> Option<Vec<u8>> {
        let name = ServerName::try_from("localhost").expect("valid name");
        let mut c = ClientConnection::new(client, name).expect("client");
        let mut s = ServerConnection::new(server).expect("server");
        for _ in 0..16 {
            if !c.is_handshaking() && !s.is_handshaking() {
                break;
            }
            let mut buf = Vec::new();
            c.write_tls(&mut buf).expect("client writes");
            s.read_tls(&mut &buf[..]).expect("server reads");
            s.process_new_packets().expect("server accepts");
            buf.clear();
            s.write_tls(&mut buf).expect("server writes");
            c.read_tls(&mut &buf[..]).expect("client reads");
            c.process_new_packets().expect("client accepts");
        }
        assert!(!c.is_handshaking() && !s.is_handshaking());
        assert_eq!(c.alpn_protocol(), s.alpn_protocol());
        s.alpn_protocol().map(<[u8]>::to_vec)
    }

    /// A server thread accepting one TLS connection with `config`, blocking; then it closes.
    fn tls_server(
        config: Arc<ServerConfig>,
    ) -> (std::net::SocketAddr, std::thread::JoinHandle<()>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let server = std::thread::spawn(move || {
            let (mut socket, _) = listener.accept().expect("accept");
            let mut s = ServerConnection::new(config).expect("server");
            while s.is_handshaking() {
                if s.complete_io(&mut socket).is_err() {
                    break;
                }
            }
            // Our Finished is still to come: read until the client closes.
            let _ = s.complete_io(&mut socket);
        });
        (addr, server)
    }

    #[test]
    fn a_blocking_client_handshake_selects_h2_and_refuses_a_server_without_it() {
        let (cert, key) = self_signed();
        let name = ServerName::try_from("localhost").expect("name");
        let (addr, server) = tls_server(server_config_from_pem(&cert, &key).expect("config"));
        let mut socket = std::net::TcpStream::connect(addr).expect("connect");
        let session = client_handshake(&mut socket, &insecure_client_config(), &name);
        assert_eq!(session.expect("handshake").alpn_protocol(), Some(ALPN_H2));
        drop(socket);
        server.join().expect("server");

        let mut http11 = (*server_config_from_pem(&cert, &key).expect("config")).clone();
        http11.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        let (addr, server) = tls_server(Arc::new(http11));
        let mut socket = std::net::TcpStream::connect(addr).expect("connect");
        let refused = client_handshake(&mut socket, &insecure_client_config(), &name);
        assert!(matches!(refused, Err(crate::Error::Malformed(m)) if m.contains("ALPN")));
        drop(socket);
        server.join().expect("server");
    }

    #[test]
    fn insecure_client_against_pem_server_selects_h2() {
        let (cert, key) = self_signed();
        let server = server_config_from_pem(&cert, &key).expect("server config");
        assert_eq!(
            handshake(server, insecure_client_config()).as_deref(),
            Some(ALPN_H2)
        );
    }

    #[test]
    fn client_trusting_the_certificate_as_root_completes_the_handshake() {
        let (cert, key) = self_signed();
        let server = server_config_from_pem(&cert, &key).expect("server config");
        let client = client_config_with_roots(&cert).expect("client config");
        assert_eq!(handshake(server, client).as_deref(), Some(ALPN_H2));
    }

    #[test]
    fn client_offering_only_http11_gets_http11() {
        let (cert, key) = self_signed();
        let server = server_config_from_pem(&cert, &key).expect("server config");
        let mut client = (*insecure_client_config()).clone();
        client.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        assert_eq!(
            handshake(server, Arc::new(client)).as_deref(),
            Some(ALPN_HTTP11)
        );
    }

    #[test]
    fn with_alpn_adds_h2_and_http11_only_when_none_is_listed() {
        let (cert, key) = self_signed();
        let mut bare = (*server_config_from_pem(&cert, &key).expect("server config")).clone();
        bare.alpn_protocols.clear();
        let filled = with_alpn(Arc::new(bare.clone()));
        assert_eq!(
            filled.alpn_protocols,
            vec![ALPN_H2.to_vec(), ALPN_HTTP11.to_vec()]
        );
        bare.alpn_protocols = vec![ALPN_HTTP11.to_vec()];
        assert_eq!(
            with_alpn(Arc::new(bare)).alpn_protocols,
            vec![ALPN_HTTP11.to_vec()]
        );
    }

    #[test]
    fn garbage_pem_is_an_error_naming_what_failed() {
        let (cert, _) = self_signed();
        let err = server_config_from_pem(&cert, b"not a key").expect_err("no key");
        assert!(err.starts_with("key"), "{err}");
        assert!(client_config_with_roots(b"-----BEGIN CERTIFICATE-----\nAAAA\n").is_err());
    }
}
