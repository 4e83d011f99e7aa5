package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/auth"
	"github.com/middletier/middletier/internal/store"
)

type oneEmployee store.Employee

func (e oneEmployee) EmployeeByOID(_ context.Context, oid string) (store.Employee, error) {
	if oid != e.OID {
		return store.Employee{}, store.ErrNotFound
	}
	return store.Employee(e), nil
}

// TestDevIssuer: the key is made once, private to its owner, and reused;
// its tokens verify through the same Authenticator as Entra ID's, with the
// discovery document and keys served in process.
func TestDevIssuer(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	first, err := auth.LoadDevIssuer(dir, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, auth.DevKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	again, err := auth.LoadDevIssuer(dir, "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	if first.Issuer() != "http://localhost:8080/dev-issuer" {
		t.Errorf("issuer = %s", first.Issuer())
	}

	// A token from the first load verifies with the keys of the second:
	// the same key was reused, not regenerated.
	tok, err := first.Mint(auth.DevToken{OID: "oid-1", Login: "avery", Audience: auth.DevAudience, Scopes: []string{"Data.Read"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	authn, err := auth.New(auth.Options{
		Issuers: []string{again.Issuer()}, Audiences: []string{auth.DevAudience},
		ReadScopes: []string{"Data.Read"}, WriteScopes: []string{"Data.ReadWrite"},
		Client:    again.Client(),
		Employees: oneEmployee{ID: "E1", OID: "oid-1", Login: "avery", Role: store.RoleStoreAssociate},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := authn.Authenticate(context.Background(), tok)
	if err != nil {
		t.Fatalf("dev token refused: %v", err)
	}
	if p.EmployeeID != "E1" || p.Login != "avery" || p.CanWrite || !p.HasScope("Data.Read") {
		t.Errorf("principal = %+v", p)
	}

	// Another data directory is another key: its tokens are refused.
	other, err := auth.LoadDevIssuer(t.TempDir(), "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	forged, err := other.Mint(auth.DevToken{OID: "oid-1", Audience: auth.DevAudience, Scopes: []string{"Data.Read"}, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := authn.Authenticate(context.Background(), forged); err == nil {
		t.Error("a token signed by another dev key was accepted")
	}
}

// TestDevIssuerDiscoveryFollowsOrigin: the discovery document's jwks_uri is
// under the origin the caller used, its issuer is the fixed identifier the
// tokens carry; with no public URL the identifier is the default one.
func TestDevIssuerDiscoveryFollowsOrigin(t *testing.T) {
	dev, err := auth.LoadDevIssuer(t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	if dev.Issuer() != auth.DevIssuerDefaultBase+auth.DevIssuerPath {
		t.Fatalf("issuer = %s, want the default", dev.Issuer())
	}
	origin := func(r *http.Request) string { return "https://" + r.Host + "/mt" }
	tests := []struct {
		name    string
		h       http.Handler
		wantJWK string
	}{
		{"follows the request", dev.HandlerAt(origin), "https://proxy.example/mt/dev-issuer/jwks"},
		{"under the issuer", dev.Handler(), "http://localhost:8080/dev-issuer/jwks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/dev-issuer/.well-known/openid-configuration", nil)
			r.Host = "proxy.example"
			w := httptest.NewRecorder()
			tt.h.ServeHTTP(w, r)
			var doc struct {
				Issuer  string `json:"issuer"`
				JWKSURI string `json:"jwks_uri"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			if doc.Issuer != dev.Issuer() || doc.JWKSURI != tt.wantJWK {
				t.Fatalf("issuer %q jwks_uri %q, want %q and %q", doc.Issuer, doc.JWKSURI, dev.Issuer(), tt.wantJWK)
			}
		})
	}
}
