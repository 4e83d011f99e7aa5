package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/middletier/middletier/internal/store/storetest"
)

// TestConnectorExport runs the command as a maker would, with no database
// and no service, and reads back what it wrote.
func TestConnectorExport(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "pkg")
	env := map[string]string{"MIDDLETIER_CONNECTOR_PUBLISHER": "Contoso"}
	var out bytes.Buffer
	err := run(context.Background(), []string{"middletier", "connector", "export", "--out", dir,
		"--public-url", "https://mt.contoso.com",
		"--client-id", "11111111-2222-3333-4444-555555555555",
		"--resource-uri", "api://middletier-contoso",
		"--tenant", "contoso.onmicrosoft.com",
	}, func(k string) string { return env[k] }, nil, &out, &out)
	if err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	read := func(name string) map[string]any {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	def := read("apiDefinition.swagger.json")
	if def["host"] != "mt.contoso.com" || def["basePath"] != "/api/v1" {
		t.Errorf("host %v basePath %v", def["host"], def["basePath"])
	}
	props := read("apiProperties.json")["properties"].(map[string]any)
	oauth := props["connectionParameters"].(map[string]any)["token"].(map[string]any)["oAuthSettings"].(map[string]any)
	custom := oauth["customParameters"].(map[string]any)
	for k, want := range map[string]any{
		"clientId":    "11111111-2222-3333-4444-555555555555",
		"resourceUri": "api://middletier-contoso",
		"tenantId":    "contoso.onmicrosoft.com",
		"publisher":   "Contoso",
		"scopes":      `["Data.ReadWrite"]`,
	} {
		var got any
		switch k {
		case "clientId":
			got = oauth[k]
		case "publisher":
			got = props[k]
		case "scopes":
			b, _ := json.Marshal(oauth[k])
			got = string(b)
		default:
			got = custom[k].(map[string]any)["value"]
		}
		if got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if settings := read("settings.json"); settings["apiDefinition"] != "apiDefinition.swagger.json" {
		t.Errorf("settings.json = %v", settings)
	}
	f, err := os.Open(filepath.Join(dir, "icon.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("icon.png: %v", err)
	}
	if strings.Contains(out.String(), "placeholder") {
		t.Errorf("placeholder note although every value was given:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "host: the definition names https://mt.contoso.com/api/v1 (from --public-url)") {
		t.Errorf("output does not say which host it used:\n%s", out.String())
	}
}

func TestConnectorExportErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no subcommand", []string{"connector"}, "missing subcommand export"},
		{"unknown subcommand", []string{"connector", "import"}, `unknown subcommand "import"`},
		{"no --out", []string{"connector", "export"}, "--out DIR is required"},
		{"reserved brand color", []string{"connector", "export", "--out", t.TempDir(), "--connector-brand-color", "#da3b01"}, "connector-brand-color"},
		{"title with API", []string{"connector", "export", "--out", t.TempDir(), "--connector-title", "Middletier API"}, "connector-title"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"middletier"}, tt.args...), func(string) string { return "" }, nil, &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}

// TestConnectorExportPlaceholders: without a client id the package still
// exports, with a placeholder the output points out.
func TestConnectorExportPlaceholders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"middletier", "connector", "export", "--out", dir}, func(string) string { return "" }, nil, &out, &out); err != nil {
		t.Fatalf("export: %v\n%s", err, out.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "apiProperties.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte("{connector_client_id}")) || !strings.Contains(out.String(), "--client-id") {
		t.Errorf("no placeholder client id or no note:\n%s\n%s", b, out.String())
	}
	// No request to follow: it must say which host it wrote and how to set the real one.
	for _, want := range []string{"host: the definition names http://localhost:8080/api/v1, the default", "--public-url https://HOST", "MIDDLETIER_PUBLIC_URL"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, out.String())
		}
	}
}

// TestServeDefinition: the running service publishes the definition without
// a token, with the host of the configured public URL.
func TestServeDefinition(t *testing.T) {
	t.Parallel()
	// The definition needs no data: no seed.
	base, _ := startService(t, map[string]string{"MIDDLETIER_PUBLIC_URL": "https://mt.contoso.com", "MIDDLETIER_AUTO_SEED": "false"}, "")
	res, err := http.Get(base + "/api/v1/swagger.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var def map[string]any
	if err := json.NewDecoder(res.Body).Decode(&def); err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK || def["swagger"] != "2.0" || def["host"] != "mt.contoso.com" {
		t.Errorf("GET /api/v1/swagger.json = %d, swagger %v, host %v", res.StatusCode, def["swagger"], def["host"])
	}
	if n := len(def["paths"].(map[string]any)); n < 8 {
		t.Errorf("%d paths", n)
	}
}

// TestDevTokenVerifiesAtEveryAddress: without --public-url the dev issuer's
// identifier stays fixed while its discovery URLs follow the request, so a
// token from `middletier token` (minted with no request) and the
// playground's token verify whether the service is reached as 127.0.0.1,
// localhost or through a trusted proxy's host.
func TestDevTokenVerifiesAtEveryAddress(t *testing.T) {
	t.Parallel()
	base, dir := startService(t, map[string]string{"MIDDLETIER_TRUSTED_PROXIES": "127.0.0.1"}, storetest.SeededDir(t))
	port := strings.TrimPrefix(base, "http://127.0.0.1:")

	var tok bytes.Buffer
	if err := run(context.Background(), []string{"middletier", "token", "--data-dir", dir, "--user", "avery"}, func(string) string { return "" }, nil, &tok, &tok); err != nil {
		t.Fatalf("token: %v\n%s", err, tok.String())
	}
	res, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	playgroundTok := regexp.MustCompile(`Bearer (eyJ[A-Za-z0-9_.-]+)`).FindSubmatch(page)
	if playgroundTok == nil {
		t.Fatal("the playground page carries no dev token")
	}
	tokens := map[string]string{"cli": strings.TrimSpace(tok.String()), "playground": string(playgroundTok[1])}

	proxy := map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mt.contoso.com"}
	tests := []struct {
		name       string
		host       string
		header     map[string]string
		wantOrigin string
	}{
		{"127.0.0.1", "127.0.0.1:" + port, nil, "http://127.0.0.1:" + port},
		{"localhost", "localhost:" + port, nil, "http://localhost:" + port},
		{"trusted proxy", "middletier.internal:8080", proxy, "https://mt.contoso.com"},
	}
	do := func(t *testing.T, path, host, token string, header map[string]string) (int, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Host = host
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, b := do(t, "/dev-issuer/.well-known/openid-configuration", tt.host, "", tt.header)
			var disc struct {
				Issuer  string `json:"issuer"`
				JWKSURI string `json:"jwks_uri"`
			}
			if err := json.Unmarshal(b, &disc); err != nil || code != http.StatusOK {
				t.Fatalf("discovery: %d %s", code, b)
			}
			if disc.Issuer != "http://localhost:8080/dev-issuer" || disc.JWKSURI != tt.wantOrigin+"/dev-issuer/jwks" {
				t.Fatalf("discovery issuer %q jwks_uri %q; want the fixed issuer and jwks under %s", disc.Issuer, disc.JWKSURI, tt.wantOrigin)
			}
			for name, token := range tokens {
				if code, b := do(t, "/api/v1/stores", tt.host, token, tt.header); code != http.StatusOK {
					t.Errorf("%s token: GET /api/v1/stores = %d %s", name, code, b)
				}
			}
		})
	}
}
