// vcsim for the deltacloud-vsphere tests: govmomi's vCenter simulator (Debian's
// golang-github-vmware-govmomi-dev has the library but no vcsim command) on a loopback port.
//
//	VCSIM_USER=u VCSIM_PASSWORD=p vcsim -listen 127.0.0.1:0 [-model vpx|esx] [-datacenters N]
//	      [-tls -cert-out FILE] [-delay METHOD=MS ...]
//
// The credentials come from the environment (never on the command line, where ps shows them).
// Once it serves, it prints one line to stdout, `VCSIM_URL=<url of /sdk>`, then runs until stdin
// closes or it gets SIGTERM/SIGINT, and removes the model's datastore directories on the way out.
// Built by tests/vcsim_server.py at test time (GOPATH=/usr/share/gocode GO111MODULE=off).
package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/vmware/govmomi/simulator"
)

// selfSigned makes a P-256 certificate for 127.0.0.1, ::1 and localhost, valid for a day (the
// simulator's built-in test certificate has a 1024-bit key, which OpenSSL refuses by default).
func selfSigned() (tls.Certificate, []byte) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "vcsim.deltacloud.test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, der
}

type delays map[string]int

func (d delays) String() string { return fmt.Sprint(map[string]int(d)) }

func (d delays) Set(value string) error {
	name, ms, ok := strings.Cut(value, "=")
	if !ok {
		return fmt.Errorf("expected METHOD=MILLISECONDS, got %q", value)
	}
	n, err := strconv.Atoi(ms)
	if err != nil {
		return err
	}
	d[name] = n
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	kind := flag.String("model", "vpx", "vpx (a vCenter) or esx (a standalone ESXi host)")
	useTLS := flag.Bool("tls", false, "serve https with a self-signed certificate made at start")
	certOut := flag.String("cert-out", "", "with -tls: write the server's certificate (PEM) here")
	datacenters := flag.Int("datacenters", 1, "vpx: how many datacenters (each with a host, a cluster, VMs)")
	methodDelay := delays{}
	flag.Var(methodDelay, "delay", "METHOD=MS: delay every call of a SOAP method (repeatable)")
	flag.Parse()

	user, password := os.Getenv("VCSIM_USER"), os.Getenv("VCSIM_PASSWORD")
	if user == "" || password == "" {
		log.Fatal("VCSIM_USER and VCSIM_PASSWORD must be set")
	}

	var model *simulator.Model
	switch *kind {
	case "vpx":
		model = simulator.VPX()
	case "esx":
		model = simulator.ESX()
	default:
		log.Fatalf("unknown model %q", *kind)
	}
	if *kind == "vpx" {
		model.Datacenter = *datacenters
	}
	if len(methodDelay) > 0 {
		model.DelayConfig.MethodDelay = methodDelay
	}
	if err := model.Create(); err != nil {
		log.Fatal(err)
	}

	model.Service.Listen = &url.URL{Host: *listen, User: url.UserPassword(user, password)}
	if *useTLS {
		cert, der := selfSigned()
		model.Service.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		if *certOut != "" {
			block := &pem.Block{Type: "CERTIFICATE", Bytes: der}
			if err := os.WriteFile(*certOut, pem.EncodeToMemory(block), 0o600); err != nil {
				log.Fatal(err)
			}
		}
	}
	server := model.Service.NewServer()

	sdk := *server.URL
	sdk.User = nil
	fmt.Printf("VCSIM_URL=%s\n", sdk.String())
	os.Stdout.Sync()

	done := make(chan struct{})
	go func() { // the test process holds our stdin: when it goes away, so do we
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(done)
	}()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	select {
	case <-done:
	case <-signals:
	}
	// Out at once: server.Close() would wait for requests still in flight (a delayed method).
	server.CloseClientConnections()
	model.Remove()
	os.Exit(0)
}
