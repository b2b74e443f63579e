package harness

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// certificateLifetime is the validity of every test certificate. It is
// short because the keys exist only for one test run.
const certificateLifetime = time.Hour

// CA is a throwaway certificate authority for TLS tests, with an ECDSA
// P-256 key that lives only in memory.
type CA struct {
	// Certificate is the self-signed CA certificate.
	Certificate *x509.Certificate
	// PEM is Certificate encoded as PEM, as in Strimzi's ca.crt.
	PEM []byte

	key *ecdsa.PrivateKey
}

// KeyPair is a certificate issued by a CA, with its private key.
type KeyPair struct {
	// TLS is the certificate chain and key for a crypto/tls configuration.
	TLS tls.Certificate
	// CertPEM is the leaf certificate as PEM, as in Strimzi's user.crt.
	CertPEM []byte
	// KeyPEM is the unencrypted PKCS #8 private key as PEM, as in
	// Strimzi's user.key.
	KeyPEM []byte
}

// NewCA creates a CA valid from one minute ago for certificateLifetime.
func NewCA(t testing.TB) *CA {
	t.Helper()
	key := newKey(t)
	template := &x509.Certificate{
		SerialNumber:          newSerial(t),
		Subject:               pkix.Name{CommonName: "squarebot test CA"},
		NotBefore:             time.Now().Add(-time.Minute),
		NotAfter:              time.Now().Add(certificateLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("creating CA certificate: %v", err)
	}
	certificate, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parsing CA certificate: %v", err)
	}
	return &CA{
		Certificate: certificate,
		PEM:         pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:         key,
	}
}

// Pool returns a certificate pool that contains only the CA.
func (ca *CA) Pool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate)
	return pool
}

// IssueServer issues a server certificate whose subject alternative names
// are the given IP addresses, such as 127.0.0.1 for a loopback broker.
func (ca *CA) IssueServer(t testing.TB, addresses ...net.IP) KeyPair {
	t.Helper()
	template := ca.leafTemplate(t, "squarebot test broker")
	template.IPAddresses = addresses
	template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	return ca.issue(t, template)
}

// IssueClient issues a client certificate for mutual TLS whose subject
// common name is user, as Strimzi names a KafkaUser's certificate.
func (ca *CA) IssueClient(t testing.TB, user string) KeyPair {
	t.Helper()
	template := ca.leafTemplate(t, user)
	template.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	return ca.issue(t, template)
}

func (ca *CA) leafTemplate(t testing.TB, commonName string) *x509.Certificate {
	return &x509.Certificate{
		SerialNumber: newSerial(t),
		Subject:      pkix.Name{CommonName: commonName},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(certificateLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
}

func (ca *CA) issue(t testing.TB, template *x509.Certificate) KeyPair {
	t.Helper()
	key := newKey(t)
	der, err := x509.CreateCertificate(rand.Reader, template, ca.Certificate, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("issuing certificate for %s: %v", template.Subject.CommonName, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("encoding key for %s: %v", template.Subject.CommonName, err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatalf("loading key pair for %s: %v", template.Subject.CommonName, err)
	}
	return KeyPair{TLS: pair, CertPEM: certPEM, KeyPEM: keyPEM}
}

// StrimziFiles are the paths of PEM files laid out as a Strimzi KafkaUser
// Secret mounts them.
type StrimziFiles struct {
	// CAFile is ca.crt, the CA that signed the brokers' certificates.
	CAFile string
	// CertFile and KeyFile are user.crt and user.key, empty when no client
	// certificate was written.
	CertFile string
	KeyFile  string
}

// WriteStrimziFiles writes ca.crt and, when client is not nil, user.crt and
// user.key into a new temporary directory that is removed when the test
// ends. Every file is readable by its owner only, as a key file must be.
func WriteStrimziFiles(t testing.TB, ca *CA, client *KeyPair) StrimziFiles {
	t.Helper()
	dir := t.TempDir()
	files := StrimziFiles{CAFile: filepath.Join(dir, "ca.crt")}
	writeFile(t, files.CAFile, ca.PEM)
	if client != nil {
		files.CertFile = filepath.Join(dir, "user.crt")
		files.KeyFile = filepath.Join(dir, "user.key")
		writeFile(t, files.CertFile, client.CertPEM)
		writeFile(t, files.KeyFile, client.KeyPEM)
	}
	return files
}

func writeFile(t testing.TB, path string, content []byte) {
	t.Helper()
	if err := os.WriteFile(path, content, 0o600); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generating ECDSA key: %v", err)
	}
	return key
}

// newSerial returns a random 128-bit serial number. Every test CA has the
// same subject name, so random serials keep each issuer and serial pair
// unique across the CAs of one test run.
func newSerial(t testing.TB) *big.Int {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		t.Fatalf("generating serial number: %v", err)
	}
	return serial
}
