package config

import (
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestAuthSettings(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		wantDev     bool
		wantIssuers []string
		wantErr     string
	}{
		{"dev mode by default", nil, true, nil, ""},
		{"tenant means both Entra ID issuers", map[string]string{"MIDDLETIER_AUTH_TENANT_ID": "t1", "MIDDLETIER_AUTH_AUDIENCES": "api://mt"},
			false, []string{"https://login.microsoftonline.com/t1/v2.0", "https://sts.windows.net/t1/"}, ""},
		{"explicit issuers", map[string]string{"MIDDLETIER_AUTH_ISSUERS": "https://id.example/", "MIDDLETIER_AUTH_AUDIENCES": "api://mt"},
			false, []string{"https://id.example/"}, ""},
		{"production needs an audience", map[string]string{"MIDDLETIER_AUTH_TENANT_ID": "t1"}, false, nil, "auth-audiences"},
		{"issuer must be a URL", map[string]string{"MIDDLETIER_AUTH_ISSUERS": "login", "MIDDLETIER_AUTH_AUDIENCES": "a"}, false, nil, "auth-issuers"},
		{"skew bounded", map[string]string{"MIDDLETIER_AUTH_CLOCK_SKEW": "1h"}, true, nil, "auth-clock-skew"},
		{"principal cache off", map[string]string{"MIDDLETIER_AUTH_CACHE_TTL": "0s"}, true, nil, ""},
		{"principal cache TTL bounded", map[string]string{"MIDDLETIER_AUTH_CACHE_TTL": "1h"}, true, nil, "auth-cache-ttl"},
		{"principal cache memory bounded", map[string]string{"MIDDLETIER_AUTH_CACHE_BYTES": "0"}, true, nil, "auth-cache-bytes"},
		{"public url without slash", map[string]string{"MIDDLETIER_PUBLIC_URL": "https://mt.example/"}, true, nil, "public-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c.Flags(fs)
			err := Parse(fs, nil, func(k string) string { return tt.env[k] })
			if err == nil {
				err = c.Validate()
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Auth.DevMode(); got != tt.wantDev {
				t.Errorf("DevMode = %v, want %v", got, tt.wantDev)
			}
			if got := c.Auth.AcceptedIssuers(); !slices.Equal(got, tt.wantIssuers) {
				t.Errorf("issuers = %v, want %v", got, tt.wantIssuers)
			}
		})
	}
}
