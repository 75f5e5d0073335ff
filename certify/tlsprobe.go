package certify

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// tlsFacts is what a TLS handshake with the endpoint showed.
type tlsFacts struct {
	plain     bool   // the URL is http: no TLS at all
	dialError string // no handshake: why (the check does not run)
	version   uint16
	// verifyError is why the certificate does not verify ("" when it does).
	verifyError string
	subject     string
	names       []string
	issuer      string
	notAfter    time.Time
}

// probeTLS makes one TLS handshake with the endpoint, sends nothing over
// it, and verifies the certificate itself, so that the facts of a bad
// certificate can be shown too.
func probeTLS(ctx context.Context, o Options, now time.Time) *tlsFacts {
	u, _ := url.Parse(o.URL) // checked by Validate
	if u.Scheme != "https" {
		return &tlsFacts{plain: true}
	}
	host := u.Hostname()
	port := u.Port()
	if port == "" {
		port = "443"
	}
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: o.abandonAfter()},
		Config: &tls.Config{
			ServerName: host,
			// Accept old versions here, so that CERT-TLS-01 can say the
			// version is too old rather than that the handshake failed.
			MinVersion: tls.VersionTLS10,
			// The chain is verified below, with the facts kept.
			InsecureSkipVerify: true,
		},
	}
	dctx, cancel := context.WithTimeout(ctx, o.abandonAfter())
	defer cancel()
	conn, err := d.DialContext(dctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		if p := describeTLSError(err); p != "" {
			return &tlsFacts{dialError: p}
		}
		return &tlsFacts{dialError: describeTransportError(err, o.abandonAfter())}
	}
	defer conn.Close()
	state := conn.(*tls.Conn).ConnectionState()
	f := &tlsFacts{version: state.Version}
	if len(state.PeerCertificates) == 0 {
		f.verifyError = "the endpoint sent no certificate"
		return f
	}
	leaf := state.PeerCertificates[0]
	f.subject, f.issuer, f.notAfter = leaf.Subject.String(), leaf.Issuer.String(), leaf.NotAfter
	f.names = append(f.names, leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		f.names = append(f.names, ip.String())
	}
	inter := x509.NewCertPool()
	for _, c := range state.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err = leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: o.RootCAs, Intermediates: inter, CurrentTime: now})
	if err != nil {
		if p := describeTLSError(err); p != "" {
			f.verifyError = p
		} else {
			f.verifyError = err.Error()
		}
	}
	return f
}

// facts lists what a report shows about the handshake.
func (f *tlsFacts) facts(now time.Time) []string {
	if f.plain || f.dialError != "" {
		return nil
	}
	out := []string{"TLS version: " + tls.VersionName(f.version)}
	if f.subject != "" {
		out = append(out,
			"certificate subject: "+f.subject,
			"certificate names: "+strings.Join(f.names, ", "),
			"issued by: "+f.issuer,
			fmt.Sprintf("valid until: %s (%d days from now)", f.notAfter.UTC().Format(time.DateOnly), int(f.notAfter.Sub(now).Hours()/24)),
		)
	}
	return out
}
