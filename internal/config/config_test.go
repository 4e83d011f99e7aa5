package config

import (
	"flag"
	"io"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/middletier/middletier/internal/upstream/hr"
	"github.com/middletier/middletier/internal/upstream/news"
	"github.com/middletier/middletier/internal/upstream/sources"
	"github.com/middletier/middletier/internal/upstream/supply"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c Config) bool { return c.Addr == ":8080" && c.Database.DataDir == "data" && c.Database.AutoSeed }, ""},
		{"env fills a setting", nil, map[string]string{"MIDDLETIER_ADDR": ":9090", "MIDDLETIER_BATCH_WAIT": "3ms"}, func(c Config) bool { return c.Addr == ":9090" && c.GraphQL.BatchWait == 3*time.Millisecond }, ""},
		{"flag wins over env", []string{"--addr", ":7070"}, map[string]string{"MIDDLETIER_ADDR": ":9090"}, func(c Config) bool { return c.Addr == ":7070" }, ""},
		{"list setting", []string{"--cors-origins", "https://a.example, https://b.example"}, nil, func(c Config) bool {
			return len(c.HTTP.CORSOrigins) == 2 && c.HTTP.CORSOrigins[1] == "https://b.example"
		}, ""},
		{"bad env value names the variable", nil, map[string]string{"MIDDLETIER_AUTO_SEED": "maybe"}, nil, "MIDDLETIER_AUTO_SEED"},
		{"body limit below the gateway's", []string{"--max-body-bytes", "1000"}, nil, nil, "max-body-bytes"},
		{"body budget below the body limit", []string{"--body-budget-bytes", "1048576"}, nil, nil, "body-budget-bytes"},
		{"body budget from env", nil, map[string]string{"MIDDLETIER_BODY_BUDGET_BYTES": "67108864", "MIDDLETIER_BODY_BUDGET_WAIT": "2s"}, func(c Config) bool {
			return c.HTTP.BodyBudgetBytes == 64<<20 && c.HTTP.BodyBudgetWait == 2*time.Second
		}, ""},
		{"body budget wait zero", []string{"--body-budget-wait", "0s"}, nil, nil, "body-budget-wait"},
		{"not a postgres url", []string{"--database-url", "mysql://db"}, nil, nil, "database-url"},
		{"bad log format", []string{"--log-format", "xml"}, nil, nil, "log-format"},
		{"debug listener off by default", nil, nil, func(c Config) bool { return c.DebugAddr == "" }, ""},
		{"debug listener from env", nil, map[string]string{"MIDDLETIER_DEBUG_ADDR": "127.0.0.1:6060"}, func(c Config) bool { return c.DebugAddr == "127.0.0.1:6060" }, ""},
		{"debug listener not host:port", []string{"--debug-addr", "6060"}, nil, nil, "debug-addr"},
		{"upstream defaults: demos, 3s, TTLs", nil, nil, func(c Config) bool {
			u := c.Upstream
			return u.Demo() && u.Timeout == 3*time.Second && sourceSettings[*hr.Settings](u).TTL == 5*time.Minute && sourceSettings[*news.Settings](u).TTL == time.Minute && sourceSettings[*supply.Settings](u).TTL == 2*time.Minute && u.StaleFor > 0
		}, ""},
		{"upstream urls from env", nil, everyURL(map[string]string{"MIDDLETIER_HR_URL": "https://hr.example", "MIDDLETIER_NEWS_URL": "https://news.example", "MIDDLETIER_SUPPLY_URL": "http://supply:8080/api"}), func(c Config) bool {
			return !c.Upstream.Demo() && c.Upstream.URL("supply") == "http://supply:8080/api"
		}, ""},
		{"bad upstream url", []string{"--news-url", "news.example"}, nil, nil, "news-url"},
		{"zero cache ttl", []string{"--restock-cache-ttl", "0s"}, nil, nil, "restock-cache-ttl"},
		{"public url follows the request by default; no proxy trusted", nil, nil, func(c Config) bool { return c.PublicURL == "" && len(c.TrustedProxies) == 0 }, ""},
		{"trusted proxies from env", nil, map[string]string{"MIDDLETIER_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7,fd00::/8"}, func(c Config) bool {
			return len(c.TrustedProxies) == 3 && c.TrustedProxies[1].String() == "192.0.2.7/32"
		}, ""},
		{"bad trusted proxy names the variable", nil, map[string]string{"MIDDLETIER_TRUSTED_PROXIES": "10.0.0.0/40"}, nil, "MIDDLETIER_TRUSTED_PROXIES"},
		{"bad trusted proxy flag", []string{"--trusted-proxies", "proxy.local"}, nil, nil, "trusted-proxies"},
		{"cost limits from env", nil, map[string]string{"MIDDLETIER_MAX_DEPTH": "9", "MIDDLETIER_MAX_ROOT_FIELDS": "5", "MIDDLETIER_MAX_FIELDS": "50", "MIDDLETIER_DB_REQUEST_CONNS": "3"}, func(c Config) bool {
			return c.GraphQL.MaxDepth == 9 && c.GraphQL.MaxRootFields == 5 && c.GraphQL.MaxFields == 50 && c.Database.RequestConns == 3
		}, ""},
		{"cost limit defaults", nil, nil, func(c Config) bool {
			return c.GraphQL.MaxDepth == 15 && c.GraphQL.MaxRootFields == 30 && c.GraphQL.MaxFields == 500 && c.Database.RequestConns == 2
		}, ""},
		{"zero depth", []string{"--max-depth", "0"}, nil, nil, "max-depth"},
		{"zero root fields", []string{"--max-root-fields", "0"}, nil, nil, "max-root-fields"},
		{"fields below root fields", []string{"--max-fields", "10"}, nil, nil, "max-fields"},
		{"one connection per request deadlocks a write", []string{"--db-request-conns", "1"}, nil, nil, "db-request-conns"},
		{"request conns above the pool", []string{"--db-request-conns", "6", "--db-max-conns", "4"}, nil, nil, "db-request-conns"},
		{"dev mode without an address: loopback only", nil, nil, func(c Config) bool { return c.Addr == ":8080" && !c.AddrGiven && c.LoopbackOnly() }, ""},
		{"dev mode with --addr: as given", []string{"--addr", ":8080"}, nil, func(c Config) bool { return c.AddrGiven && !c.LoopbackOnly() }, ""},
		{"dev mode with MIDDLETIER_ADDR: as given", nil, map[string]string{"MIDDLETIER_ADDR": "0.0.0.0:9000"}, func(c Config) bool { return c.Addr == "0.0.0.0:9000" && !c.LoopbackOnly() }, ""},
		{"production without an address: every interface", nil, map[string]string{"MIDDLETIER_AUTH_TENANT_ID": "t1", "MIDDLETIER_AUTH_AUDIENCES": "api://x"}, func(c Config) bool { return c.Addr == ":8080" && !c.LoopbackOnly() }, ""},
		{"addr without a port", []string{"--addr", "localhost"}, nil, nil, "addr must be host:port"},
		{"drain delay default and env", nil, map[string]string{"MIDDLETIER_DRAIN_DELAY": "0s"}, func(c Config) bool { return c.HTTP.DrainDelay == 0 && Defaults().HTTP.DrainDelay == 5*time.Second }, ""},
		{"negative drain delay", []string{"--drain-delay", "-1s"}, nil, nil, "drain-delay"},
		{"response cache on by default", nil, nil, func(c Config) bool { return c.Facade.ResponseCacheBytes == 32<<20 }, ""},
		{"response cache off from env", nil, map[string]string{"MIDDLETIER_RESPONSE_CACHE_BYTES": "0"}, func(c Config) bool { return c.Facade.ResponseCacheBytes == 0 }, ""},
		{"response cache too small", []string{"--response-cache-bytes", "1000"}, nil, nil, "response-cache-bytes"},
		{"no redis by default", nil, nil, func(c Config) bool { return c.Redis.URL == "" && c.Redis.KeyPrefix == "middletier:" }, ""},
		{"redis from env", nil, map[string]string{"MIDDLETIER_REDIS_URL": "rediss://:pw@cache.example:6380/1", "MIDDLETIER_REDIS_KEY_PREFIX": "mt-prod:"}, func(c Config) bool {
			return c.Redis.URL == "rediss://:pw@cache.example:6380/1" && c.Redis.KeyPrefix == "mt-prod:"
		}, ""},
		{"redis url not redis", []string{"--redis-url", "http://cache:6379"}, nil, nil, "redis-url"},
		{"redis key prefix empty", []string{"--redis-key-prefix", ""}, nil, nil, "redis-key-prefix"},
		{"upstream resilience defaults", nil, nil, func(c Config) bool {
			r := c.Upstream.Resilience
			return r.Retries == 2 && r.RetryBackoff == 100*time.Millisecond && r.BreakerMinCalls == 10 && r.BreakerFailureRatio == 0.5 && r.BreakerOpenFor == 30*time.Second && r.BreakerWindow == time.Minute
		}, ""},
		{"upstream resilience from env", nil, map[string]string{"MIDDLETIER_UPSTREAM_RETRIES": "0", "MIDDLETIER_UPSTREAM_BREAKER_MIN_CALLS": "20", "MIDDLETIER_UPSTREAM_BREAKER_FAILURE_RATIO": "0.8", "MIDDLETIER_UPSTREAM_BREAKER_OPEN_FOR": "1m", "MIDDLETIER_UPSTREAM_BREAKER_WINDOW": "2m", "MIDDLETIER_UPSTREAM_RETRY_BACKOFF": "50ms"}, func(c Config) bool {
			r := c.Upstream.Resilience
			return r.Retries == 0 && r.BreakerMinCalls == 20 && r.BreakerFailureRatio == 0.8 && r.BreakerOpenFor == time.Minute && r.BreakerWindow == 2*time.Minute && r.RetryBackoff == 50*time.Millisecond
		}, ""},
		{"breaker off", []string{"--upstream-breaker-min-calls", "0", "--upstream-breaker-failure-ratio", "7"}, nil, func(c Config) bool { return c.Upstream.Resilience.BreakerMinCalls == 0 }, ""},
		{"too many retries", []string{"--upstream-retries", "9"}, nil, nil, "upstream-retries"},
		{"failure ratio above 1", []string{"--upstream-breaker-failure-ratio", "1.5"}, nil, nil, "upstream-breaker-failure-ratio"},
		{"breaker never closes again", []string{"--upstream-breaker-open-for", "0s"}, nil, nil, "upstream-breaker-open-for"},
		{"dev mode: introspection and playground on", nil, nil, func(c Config) bool { return c.GraphQL.Introspection && c.GraphQL.Playground }, ""},
		{"production: introspection and playground off", nil, map[string]string{"MIDDLETIER_AUTH_TENANT_ID": "t1", "MIDDLETIER_AUTH_AUDIENCES": "api://x"}, func(c Config) bool {
			return !c.GraphQL.Introspection && !c.GraphQL.Playground
		}, ""},
		{"production: enabled explicitly", []string{"--introspection", "--auth-tenant-id", "t1", "--auth-audiences", "api://x"}, map[string]string{"MIDDLETIER_PLAYGROUND": "true"}, func(c Config) bool {
			return c.GraphQL.Introspection && c.GraphQL.Playground
		}, ""},
		{"dev mode: turned off explicitly", []string{"--playground=false"}, map[string]string{"MIDDLETIER_INTROSPECTION": "false"}, func(c Config) bool {
			return !c.GraphQL.Introspection && !c.GraphQL.Playground
		}, ""},
		{"bad introspection value", nil, map[string]string{"MIDDLETIER_INTROSPECTION": "sometimes"}, nil, "MIDDLETIER_INTROSPECTION"},
		{"rate limit default lets a connection through", nil, nil, func(c Config) bool { return c.HTTP.RateLimit == 1200 && c.HTTP.RateLimitWindow == time.Minute }, ""},
		{"rate limit off", nil, map[string]string{"MIDDLETIER_RATE_LIMIT": "0"}, func(c Config) bool { return c.HTTP.RateLimit == 0 }, ""},
		{"rate limit per second", []string{"--rate-limit", "10", "--rate-limit-window", "1s"}, nil, func(c Config) bool { return c.HTTP.RateLimit == 10 }, ""},
		{"rate limit below a connection's", []string{"--rate-limit", "400"}, nil, nil, "below 500 a minute"},
		{"trusted documents from env", nil, map[string]string{"MIDDLETIER_TRUSTED_DOCUMENTS": "/srv/docs"}, func(c Config) bool { return c.GraphQL.TrustedDocuments == "/srv/docs" }, ""},
		{"public url with user info", []string{"--public-url", "https://u@mt.example"}, nil, nil, "public-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Defaults()
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			c.Flags(fs)
			err := Parse(fs, tt.args, func(k string) string { return tt.env[k] })
			c.ApplyMode()
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatalf("err = %v", err)
			case !tt.check(c):
				t.Fatalf("config = %+v", c)
			}
		})
	}
}

func TestLogValueMasksPassword(t *testing.T) {
	c := Defaults()
	c.Database.URL = "postgres://app:s3cret@db:5432/mt"
	c.Redis.URL = "redis://:r3dispw@cache:6379/0"
	if s := c.LogValue().String(); strings.Contains(s, "s3cret") || strings.Contains(s, "r3dispw") {
		t.Fatalf("LogValue shows the password: %s", s)
	}
}

// sourceSettings finds one source's own settings; each source keeps its TTL
// in its own struct.
func sourceSettings[T any](u Upstream) T {
	for _, s := range u.Sources {
		if t, ok := s.Settings.(T); ok {
			return t
		}
	}
	var zero T
	return zero
}

// everyURL gives every source in the list a URL (set sets some of them), so
// that a source added to the list does not turn "no demo" into "a demo".
func everyURL(set map[string]string) map[string]string {
	env := map[string]string{}
	for _, s := range sources.All() {
		env[EnvName(s.Name+"-url")] = "https://" + s.Name + ".example"
	}
	maps.Copy(env, set)
	return env
}
