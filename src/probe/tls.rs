//! The TLS stage. PostgreSQL negotiates TLS inside its own protocol: the client sends
//! an 8-byte SSLRequest and the server answers one byte, `S` (go ahead) or `N` (no
//! TLS here). The probe sends it itself, so "the server does not offer TLS" is a typed
//! fact rather than a driver's error string. It then runs a rustls handshake whose
//! verifier records the presented chain and the verification outcome (web PKI roots
//! plus any extra CA bundle) without aborting, so the chain is reported even when it is
//! not trusted; failures are told apart by `rustls::CertificateError` variant.

use super::net::Failure;
use super::CODE_TIMEOUT;
use crate::snapshot::CertInfo;
use chrono::{DateTime, Utc};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

/// The RDS CA bundle that trusts every Amazon RDS certificate authority.
pub const RDS_BUNDLE_URL: &str =
    "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/// PostgreSQL's SSLRequest: length 8, code 80877103.
const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

/// The server's answer to an SSLRequest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslAnswer {
    /// `S`: the server will do a TLS handshake next.
    Offered,
    /// `N`: no TLS; the connection goes on in plaintext.
    NotOffered,
    /// Any other byte (`E` from very old servers, or not PostgreSQL at all).
    Other(u8),
}

/// Sends SSLRequest on a fresh connection and reads the one-byte answer.
pub async fn ssl_request(stream: &mut TcpStream) -> io::Result<SslAnswer> {
    stream.write_all(&SSL_REQUEST).await?;
    let mut b = [0u8; 1];
    stream.read_exact(&mut b).await?;
    Ok(match b[0] {
        b'S' => SslAnswer::Offered,
        b'N' => SslAnswer::NotOffered,
        other => SslAnswer::Other(other),
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// What the verifier saw: the chain and the verification result.
#[derive(Debug, Default)]
pub struct Seen {
    pub chain: Vec<CertificateDer<'static>>,
    pub error: Option<rustls::Error>,
}

/// A verifier that delegates to webpki, records chain and verdict, and lets the
/// handshake go on: the probe decides afterwards whether to continue.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<WebPkiServerVerifier>,
    seen: Arc<Mutex<Seen>>,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict = self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.chain = std::iter::once(end_entity)
            .chain(intermediates)
            .map(|c| c.clone().into_owned())
            .collect();
        seen.error = verdict.err();
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Trust store: Mozilla's roots (webpki-roots) plus `extra`. Returns how many extra
/// certificates were accepted as roots.
pub fn root_store(extra: &[CertificateDer<'static>]) -> (RootCertStore, usize) {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let (added, _ignored) = roots.add_parsable_certificates(extra.iter().cloned());
    (roots, added)
}

/// Result of a completed handshake.
pub struct Handshake {
    pub stream: TlsStream<TcpStream>,
    pub seen: Seen,
    pub version: String,
    pub cipher: String,
}

/// Runs the TLS handshake for `server_name` over `stream` (after `S`).
pub async fn handshake(
    stream: TcpStream,
    server_name: &str,
    extra_roots: &[CertificateDer<'static>],
    timeout: Duration,
) -> Result<Handshake, Failure> {
    let name = ServerName::try_from(server_name.to_string()).map_err(|_| {
        Failure::fail(
            "other",
            format!("{server_name:?} is not a valid TLS server name"),
        )
    })?;
    let (roots, _) = root_store(extra_roots);
    let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| {
            Failure::fail(
                "other",
                format!("cannot build the certificate verifier: {e}"),
            )
        })?;
    let seen = Arc::new(Mutex::new(Seen::default()));
    let verifier = Arc::new(RecordingVerifier {
        inner,
        seen: seen.clone(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::fail("other", format!("TLS configuration: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = tokio::time::timeout(timeout, connector.connect(name, stream)).await;
    let taken = std::mem::take(&mut *seen.lock().unwrap_or_else(|p| p.into_inner()));
    match result {
        Err(_) => Err(Failure::fail(
            CODE_TIMEOUT,
            format!(
                "the server accepted TLS but the handshake did not finish within {} s",
                timeout.as_secs()
            ),
        )),
        Ok(Err(e)) => {
            let rustls_err = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            Err(match rustls_err {
                Some(re) => Failure::fail("other", format!("TLS handshake failed: {re}")),
                None => Failure::fail(
                    "other",
                    format!("TLS handshake failed: {} ({:?})", e, e.kind()),
                ),
            })
        }
        Ok(Ok(stream)) => {
            let (_, conn) = stream.get_ref();
            let version = conn
                .protocol_version()
                .and_then(|v| v.as_str())
                .unwrap_or("TLS")
                .replace('_', ".");
            let cipher = conn
                .negotiated_cipher_suite()
                .and_then(|c| c.suite().as_str())
                .unwrap_or("")
                .to_string();
            Ok(Handshake {
                stream,
                seen: taken,
                version,
                cipher,
            })
        }
    }
}

fn unix_to_utc(secs: i64) -> Option<DateTime<Utc>> {
    DateTime::<Utc>::from_timestamp(secs, 0)
}

/// Subject, issuer, expiry and SANs of each certificate, leaf first.
pub fn chain_info(chain: &[CertificateDer<'_>]) -> Vec<CertInfo> {
    chain
        .iter()
        .map(
            |der| match x509_parser::parse_x509_certificate(der.as_ref()) {
                Ok((_, cert)) => {
                    let mut sans = Vec::new();
                    if let Ok(Some(ext)) = cert.subject_alternative_name() {
                        for gn in &ext.value.general_names {
                            match gn {
                                x509_parser::extensions::GeneralName::DNSName(n) => {
                                    sans.push(n.to_string())
                                }
                                x509_parser::extensions::GeneralName::IPAddress(b) => {
                                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                                        sans.push(std::net::Ipv4Addr::from(a).to_string());
                                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                                        sans.push(std::net::Ipv6Addr::from(a).to_string());
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                    CertInfo {
                        subject: cert.subject().to_string(),
                        issuer: cert.issuer().to_string(),
                        not_after: unix_to_utc(cert.validity().not_after.timestamp()),
                        sans,
                    }
                }
                Err(_) => CertInfo {
                    subject: "(unparsable certificate)".to_string(),
                    issuer: String::new(),
                    not_after: None,
                    sans: Vec::new(),
                },
            },
        )
        .collect()
}

/// Whether the chain contains a self-signed certificate (subject equals issuer).
pub fn has_self_signed(chain: &[CertificateDer<'_>]) -> bool {
    chain.iter().any(|der| {
        x509_parser::parse_x509_certificate(der.as_ref())
            .map(|(_, c)| c.subject().as_raw() == c.issuer().as_raw())
            .unwrap_or(false)
    })
}

/// Whether any certificate in the chain was issued by (or is) an Amazon RDS CA.
pub fn is_rds(info: &[CertInfo]) -> bool {
    info.iter()
        .any(|c| c.issuer.contains("Amazon RDS") || c.subject.contains("Amazon RDS"))
}

fn trust_phrase(extra: usize) -> String {
    if extra == 0 {
        "the web PKI roots (no --ca-bundle given)".to_string()
    } else {
        format!("the web PKI roots plus {extra} certificate(s) from --ca-bundle")
    }
}

/// Classifies a verification error into a TLS-stage failure.
pub fn classify_verification(
    err: &rustls::Error,
    chain: &[CertificateDer<'_>],
    info: &[CertInfo],
    server_name: &str,
    extra_roots: usize,
) -> Failure {
    let rds = rds_hint(info);
    let top = info.last().map(|c| c.issuer.clone()).unwrap_or_default();
    let rustls::Error::InvalidCertificate(ce) = err else {
        return Failure::fail("other", format!("certificate not accepted: {err}"));
    };
    match ce {
        CertificateError::UnknownIssuer => unknown_issuer(chain, info, &top, &rds, extra_roots),
        CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
            expired_certificates(info, &rds)
        }
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            hostname_mismatch(ce, info, server_name)
        }
        other => Failure::fail(
            "other",
            format!(
                "certificate not accepted: {}",
                rustls::Error::InvalidCertificate(other.clone())
            ),
        ),
    }
}

/// The hint appended when the chain is from an Amazon RDS CA (else empty).
fn rds_hint(info: &[CertInfo]) -> String {
    if is_rds(info) {
        format!(
            "; the chain is from an Amazon RDS CA: trust the RDS bundle ({RDS_BUNDLE_URL}) with --ca-bundle, and ship it in the image"
        )
    } else {
        String::new()
    }
}

/// An untrusted issuer: a self-signed certificate in the chain, or an unknown CA.
fn unknown_issuer(
    chain: &[CertificateDer<'_>],
    info: &[CertInfo],
    top: &str,
    rds: &str,
    extra_roots: usize,
) -> Failure {
    if has_self_signed(chain) {
        let root = info
            .iter()
            .find(|c| c.subject == c.issuer)
            .map(|c| c.subject.clone())
            .unwrap_or_default();
        Failure::fail(
            "self_signed_in_chain",
            format!(
                "the server sent a self-signed certificate ({root}) that is not among {}{rds}",
                trust_phrase(extra_roots)
            ),
        )
    } else {
        Failure::fail(
            "unknown_issuer",
            format!(
                "the chain ends at issuer {top}, which is not among {}{rds}",
                trust_phrase(extra_roots)
            ),
        )
    }
}

/// An expired certificate, naming the expired ones in the chain.
fn expired_certificates(info: &[CertInfo], rds: &str) -> Failure {
    let now = Utc::now();
    let expired: Vec<String> = info
        .iter()
        .filter(|c| c.not_after.is_some_and(|t| t < now))
        .map(|c| {
            format!(
                "{} (expired {})",
                c.subject,
                c.not_after
                    .map(|t| t.format("%Y-%m-%d").to_string())
                    .unwrap_or_default()
            )
        })
        .collect();
    Failure::fail(
        "expired",
        format!(
            "certificate expired: {}{rds}",
            if expired.is_empty() {
                "a certificate in the chain".to_string()
            } else {
                expired.join(", ")
            }
        ),
    )
}

/// A certificate not valid for `server_name`, naming the names it is valid for.
fn hostname_mismatch(ce: &CertificateError, info: &[CertInfo], server_name: &str) -> Failure {
    let presented = match ce {
        CertificateError::NotValidForNameContext { presented, .. } => presented.clone(),
        _ => info.first().map(|c| c.sans.clone()).unwrap_or_default(),
    };
    Failure::fail(
        "hostname_mismatch",
        format!(
            "the certificate is valid for {}, not for {server_name}: connect by a name the certificate lists (for RDS, the instance or cluster endpoint, not a CNAME or IP)",
            if presented.is_empty() { "no names".to_string() } else { presented.join(", ") }
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssl_request_bytes_are_postgres_code() {
        let code = u32::from_be_bytes([
            SSL_REQUEST[4],
            SSL_REQUEST[5],
            SSL_REQUEST[6],
            SSL_REQUEST[7],
        ]);
        assert_eq!(code, 80_877_103);
    }

    #[test]
    fn rds_is_recognised_by_issuer() {
        let c = CertInfo {
            subject: "CN=db.abc.us-east-1.rds.amazonaws.com".into(),
            issuer: "CN=Amazon RDS us-east-1 Root CA RSA2048 G1, O=Amazon.com".into(),
            ..CertInfo::default()
        };
        assert!(is_rds(&[c]));
        let f = classify_verification(
            &rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
            &[],
            &[CertInfo {
                subject: "CN=x".into(),
                issuer: "CN=Amazon RDS us-east-1 Subordinate CA".into(),
                ..CertInfo::default()
            }],
            "x",
            0,
        );
        assert_eq!(f.code, "unknown_issuer");
        assert!(f.detail.contains(RDS_BUNDLE_URL), "{}", f.detail);
    }
}
