package infra

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// kubeconfig is the part of a kubectl config file the room reads: the
// current context's cluster (server, CA, TLS checks) and user (bearer
// token or token file, client certificate and key, basic auth).
type kubeconfig struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string `yaml:"name"`
		Cluster struct {
			Server                   string `yaml:"server"`
			CertificateAuthority     string `yaml:"certificate-authority"`
			CertificateAuthorityData string `yaml:"certificate-authority-data"`
			InsecureSkipTLSVerify    bool   `yaml:"insecure-skip-tls-verify"`
			TLSServerName            string `yaml:"tls-server-name"`
		} `yaml:"cluster"`
	} `yaml:"clusters"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			Token                 string         `yaml:"token"`
			TokenFile             string         `yaml:"tokenFile"`
			ClientCertificate     string         `yaml:"client-certificate"`
			ClientCertificateData string         `yaml:"client-certificate-data"`
			ClientKey             string         `yaml:"client-key"`
			ClientKeyData         string         `yaml:"client-key-data"`
			Username              string         `yaml:"username"`
			Password              string         `yaml:"password"`
			Exec                  map[string]any `yaml:"exec"`
			AuthProvider          map[string]any `yaml:"auth-provider"`
		} `yaml:"user"`
	} `yaml:"users"`
	Contexts []struct {
		Name    string `yaml:"name"`
		Context struct {
			Cluster string `yaml:"cluster"`
			User    string `yaml:"user"`
		} `yaml:"context"`
	} `yaml:"contexts"`
}

// errNoKubeconfig means no kubeconfig file exists at the path.
var errNoKubeconfig = errors.New("no kubeconfig")

// kubeconfigPaths are the files tried in order: the KUBECONFIG list
// (Deps.Kubeconfig), else ~/.kube/config.
func kubeconfigPaths(list string) []string {
	var out []string
	for _, p := range filepath.SplitList(list) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		if home, err := os.UserHomeDir(); err == nil {
			out = append(out, filepath.Join(home, ".kube", "config"))
		}
	}
	return out
}

// loadKubeconfig builds a client from the first kubeconfig file of list
// that exists: errNoKubeconfig when none does, else an error a user can
// act on when the file is unusable.
func loadKubeconfig(list string, timeout time.Duration) (*K8s, string, error) {
	for _, path := range kubeconfigPaths(list) {
		b, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, path, fmt.Errorf("kubeconfig %s: %w", path, err)
		}
		k, err := parseKubeconfig(b, filepath.Dir(path), timeout)
		if err != nil {
			return nil, path, fmt.Errorf("kubeconfig %s: %w", path, err)
		}
		return k, path, nil
	}
	return nil, "", errNoKubeconfig
}

// parseKubeconfig reads the current context of a kubeconfig; relative
// file paths are relative to dir (the kubeconfig's directory).
func parseKubeconfig(b []byte, dir string, timeout time.Duration) (*K8s, error) {
	var kc kubeconfig
	if err := yaml.Unmarshal(b, &kc); err != nil {
		return nil, fmt.Errorf("not a kubeconfig: %w", err)
	}
	ctxName := kc.CurrentContext
	if ctxName == "" && len(kc.Contexts) == 1 {
		ctxName = kc.Contexts[0].Name
	}
	var clusterName, userName string
	found := false
	for _, c := range kc.Contexts {
		if c.Name == ctxName {
			clusterName, userName, found = c.Context.Cluster, c.Context.User, true
		}
	}
	if !found {
		return nil, fmt.Errorf("current context %q not found", ctxName)
	}
	file := func(p string) string {
		if p != "" && !filepath.IsAbs(p) {
			return filepath.Join(dir, p)
		}
		return p
	}
	read := func(data, path, what string) ([]byte, error) {
		if data != "" {
			v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
			if err != nil {
				return nil, fmt.Errorf("%s-data is not base64", what)
			}
			return v, nil
		}
		if path == "" {
			return nil, nil
		}
		v, err := os.ReadFile(file(path))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		return v, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	k := &K8s{}
	found = false
	for _, c := range kc.Clusters {
		if c.Name != clusterName {
			continue
		}
		found = true
		k.Base = strings.TrimRight(c.Cluster.Server, "/")
		cfg.ServerName = c.Cluster.TLSServerName
		cfg.InsecureSkipVerify = c.Cluster.InsecureSkipTLSVerify //nolint:gosec // the kubeconfig asks for it
		ca, err := read(c.Cluster.CertificateAuthorityData, c.Cluster.CertificateAuthority, "certificate-authority")
		if err != nil {
			return nil, err
		}
		if ca != nil {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(ca) {
				return nil, errors.New("certificate-authority holds no PEM certificate")
			}
			cfg.RootCAs = pool
		}
	}
	if !found || k.Base == "" {
		return nil, fmt.Errorf("cluster %q has no server", clusterName)
	}
	for _, u := range kc.Users {
		if u.Name != userName {
			continue
		}
		if u.User.Exec != nil || u.User.AuthProvider != nil {
			return nil, errors.New("exec and auth-provider credential plugins are not supported: give the user a token or a client certificate")
		}
		k.Token = strings.TrimSpace(u.User.Token)
		if k.Token == "" && u.User.TokenFile != "" {
			t, err := os.ReadFile(file(u.User.TokenFile))
			if err != nil {
				return nil, fmt.Errorf("tokenFile: %w", err)
			}
			k.Token = strings.TrimSpace(string(t))
		}
		k.Username, k.Password = u.User.Username, u.User.Password
		cert, err := read(u.User.ClientCertificateData, u.User.ClientCertificate, "client-certificate")
		if err != nil {
			return nil, err
		}
		key, err := read(u.User.ClientKeyData, u.User.ClientKey, "client-key")
		if err != nil {
			return nil, err
		}
		if cert != nil || key != nil {
			pair, err := tls.X509KeyPair(cert, key)
			if err != nil {
				return nil, fmt.Errorf("client certificate: %w", err)
			}
			cfg.Certificates = []tls.Certificate{pair}
		}
	}
	k.HTTP = &http.Client{Timeout: timeout, Transport: &http.Transport{TLSClientConfig: cfg, Proxy: nil}}
	return k, nil
}
