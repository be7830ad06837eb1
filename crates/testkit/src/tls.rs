//! Real TLS for the tests: a throwaway CA made in the test ([`TestCa`],
//! with `rcgen`), server certificates it signs, and a TLS terminator
//! ([`TlsFront`]) on 127.0.0.1 port 0 that forwards the decrypted bytes to
//! a plain HTTP server (dev-idp, the items API), as a reverse proxy in
//! front of them would. Nothing here is trusted by any client unless the
//! test gives it the CA.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};

/// A certificate authority made for one test: its certificate (PEM) to be
/// trusted by the clients under test, its key to sign server certificates.
pub struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA named `name` (each CA of a test should have its own name).
    ///
    /// # Panics
    /// When the key or certificate cannot be made.
    #[must_use]
    pub fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.distinguished_name.push(DnType::OrganizationName, "Tessera tests");
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().expect("a CA key");
        let certificate = params.self_signed(&key).expect("a self-signed CA certificate");
        Self { pem: certificate.pem(), issuer: Issuer::new(params, key) }
    }

    /// The CA's certificate, PEM-encoded.
    #[must_use]
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// Writes the CA's certificate (PEM) to `path`.
    ///
    /// # Panics
    /// When the file cannot be written.
    pub fn write_pem(&self, path: &Path) {
        std::fs::write(path, &self.pem).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }

    /// The CA's certificate for a test's own `reqwest` client.
    ///
    /// # Panics
    /// Never for a CA made here.
    #[must_use]
    pub fn reqwest_certificate(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(self.pem.as_bytes()).expect("the CA's PEM")
    }

    /// A server certificate for `names` (host names and IP addresses, e.g.
    /// `["127.0.0.1", "localhost"]`), signed by this CA.
    ///
    /// # Panics
    /// When the key or certificate cannot be made.
    #[must_use]
    pub fn server_certificate(&self, names: &[&str]) -> ServerCertificate {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names.clone()).expect("server certificate parameters");
        params.distinguished_name.push(DnType::CommonName, names.first().cloned().unwrap_or_default());
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
        params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("a server key");
        let certificate = params.signed_by(&key, &self.issuer).expect("a server certificate");
        ServerCertificate {
            chain: vec![certificate.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        }
    }
}

/// A server's certificate chain and key.
#[derive(Debug)]
pub struct ServerCertificate {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ServerCertificate {
    fn server_config(&self) -> rustls::ServerConfig {
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_no_client_auth()
            .with_single_cert(self.chain.clone(), self.key.clone_key())
            .expect("a TLS server configuration")
    }
}

/// A TLS terminator on 127.0.0.1: bound first (so that a server behind it
/// can be told its `https` origin), then [`forward_to`](Self::forward_to) a
/// plain server.
pub struct TlsFront {
    listener: TcpListener,
    addr: SocketAddr,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl std::fmt::Debug for TlsFront {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsFront").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl TlsFront {
    /// Binds 127.0.0.1 port 0, to serve `certificate`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn bind(certificate: &ServerCertificate) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let addr = listener.local_addr().expect("a bound address");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(certificate.server_config()));
        Self { listener, addr, acceptor }
    }

    /// Where it listens.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its origin, `https://127.0.0.1:{port}`.
    #[must_use]
    pub fn origin(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// Runs until the test ends: each connection's handshake, then its bytes
    /// both ways to `backend` (a plain HTTP server).
    pub fn forward_to(self, backend: SocketAddr) {
        let Self { listener, acceptor, .. } = self;
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let handshake = tokio::time::timeout(crate::WAIT_LIMIT, acceptor.accept(stream)).await;
                    // A client that refused the certificate ends here.
                    let Ok(Ok(mut tls)) = handshake else { return };
                    let Ok(mut plain) = TcpStream::connect(backend).await else { return };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    }
}
