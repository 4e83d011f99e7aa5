// Package playgroundtest drives the GraphiQL playground in a headless
// Chromium, for end-to-end tests of a server that mounts
// internal/playground.
//
// Tests that use it skip when no Chromium binary is found, unless the
// environment variable MIDDLETIER_TEST_BROWSER is set to a true value
// ("1"), in which case they fail: CI sets it so that the browser tests
// cannot be skipped silently. Install the browser with
// `apt-get install chromium` (Debian).
package playgroundtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// EnvRequireBrowser is the environment variable that turns a missing
// Chromium from a skip into a failure.
const EnvRequireBrowser = "MIDDLETIER_TEST_BROWSER"

// EnvChromium may name the Chromium binary; otherwise "chromium" and
// "chromium-browser" are looked up in PATH, then /usr/bin/chromium.
const EnvChromium = "MIDDLETIER_CHROMIUM"

// EnvScreenshot, when set to a file path, makes Run save a full-page PNG
// screenshot there after the query's result has appeared.
const EnvScreenshot = "MIDDLETIER_PLAYGROUND_SCREENSHOT"

// StepTimeout bounds every wait on the browser: start-up, page load,
// schema load, and the query's result.
const StepTimeout = 60 * time.Second

// Where ChromiumPath looks, after EnvChromium: names in PATH, then paths.
var (
	chromiumNames = []string{"chromium", "chromium-browser"}
	chromiumPaths = []string{"/usr/bin/chromium"}
)

// ChromiumPath returns the path of the Chromium binary. When there is none
// it skips the test, or fails it if EnvRequireBrowser is true.
func ChromiumPath(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("playgroundtest: %s=%q: %v", EnvChromium, p, err)
		}
		return p
	}
	for _, name := range chromiumNames {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	msg := "no Chromium binary found (looked for chromium and chromium-browser in PATH and /usr/bin/chromium); install it with `apt-get install chromium`"
	if required, _ := strconv.ParseBool(os.Getenv(EnvRequireBrowser)); required {
		t.Fatalf("playgroundtest: %s, and %s is set, so the browser test must run", msg, EnvRequireBrowser)
	}
	t.Skipf("playgroundtest: skipping browser test: %s (set %s=1 to make this a failure)", msg, EnvRequireBrowser)
	return ""
}

// instrument runs in the page before any of its own scripts. It counts the
// page's fetch requests (GraphiQL's introspection and queries) and records
// Content-Security-Policy violations and uncaught errors.
const instrument = `(() => {
  if (window.__playgroundtest) return;
  const s = window.__playgroundtest = { pending: 0, completed: 0, errors: [], csp: [] };
  const origFetch = window.fetch;
  window.fetch = function (...args) {
    s.pending++;
    const done = () => { s.pending--; s.completed++; };
    let p;
    try {
      p = origFetch.apply(this, args);
    } catch (e) {
      done();
      throw e;
    }
    p.then(done, done);
    return p;
  };
  document.addEventListener('securitypolicyviolation', (e) => {
    s.csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
      (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : ''));
  });
  window.addEventListener('error', (e) => {
    const t = e.target;
    if (t && t !== window && (t.src || t.href)) {
      s.errors.push('failed to load ' + (t.src || t.href));
    } else {
      s.errors.push('uncaught: ' + (e.message || String(e.error)));
    }
  }, true);
  window.addEventListener('unhandledrejection', (e) => {
    s.errors.push('unhandled rejection: ' + String(e.reason && (e.reason.stack || e.reason)));
  });
})();`

// Run opens baseURL + "/" in a fresh headless Chromium, waits until
// GraphiQL has rendered and finished loading the schema, replaces the
// query editor's content with query, clicks the execute button, waits for
// the response, and returns the text of the result pane (GraphiQL's
// pretty-printed JSON of the response).
//
// It fails the test if the page cannot be loaded or driven, and reports
// (t.Errorf) any Content-Security-Policy violation, failed asset load or
// uncaught JavaScript error that the page had. Every wait is bounded by
// StepTimeout. Each call starts and stops its own browser with a new,
// empty profile, so nothing (saved queries, tabs) carries over.
func Run(t testing.TB, baseURL, query string) string {
	t.Helper()
	execPath := ChromiumPath(t)

	profile, err := os.MkdirTemp("", "middletier-chromium-")
	if err != nil {
		t.Fatalf("playgroundtest: %v", err)
	}
	defer os.RemoveAll(profile)

	// The whole run, browser start to shutdown, is bounded too.
	runCtx, cancelRun := context.WithTimeout(context.Background(), 4*StepTimeout)
	defer cancelRun()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(runCtx, opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	defer cancelCtx()
	// Close the browser gracefully and wait for it, so that the profile
	// directory can be removed.
	defer func() { _ = chromedp.Cancel(ctx) }()

	step := func(name string, f func(ctx context.Context) error) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, StepTimeout)
		defer cancel()
		if err := f(sctx); err != nil {
			t.Fatalf("playgroundtest: %s: %v%s", name, err, pageState(ctx))
		}
	}

	step("start Chromium", func(sctx context.Context) error {
		// The first action starts the browser and binds it to ctx, which
		// has no deadline of its own beyond runCtx.
		if err := chromedp.Do(ctx); err != nil {
			return err
		}
		_, err := chromedp.Call(sctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: instrument})
		return err
	})

	pageURL := strings.TrimSuffix(baseURL, "/") + "/"
	step("load "+pageURL, func(sctx context.Context) error {
		resp, err := chromedp.Run(sctx, chromedp.NavigateResponse(pageURL))
		if err != nil {
			return err
		}
		if resp != nil && resp.Status != 200 {
			return fmt.Errorf("status %d %s", resp.Status, resp.StatusText)
		}
		return nil
	})

	step("wait for GraphiQL and the schema", func(sctx context.Context) error {
		if err := chromedp.Do(sctx, chromedp.WaitVisible(chromedp.CSS(".graphiql-query-editor .CodeMirror"))); err != nil {
			return err
		}
		// GraphiQL fetches the schema (introspection) as soon as it mounts.
		_, err := chromedp.Run(sctx, chromedp.Poll[bool](
			`window.__playgroundtest.completed > 0 && window.__playgroundtest.pending === 0`,
			chromedp.WithPollingTimeout(StepTimeout), chromedp.WithPollingInterval(50*time.Millisecond)))
		return err
	})

	var before int
	step("set the query", func(sctx context.Context) error {
		q, err := json.Marshal(query)
		if err != nil {
			return err
		}
		before, err = chromedp.Run(sctx, chromedp.Evaluate[int](`(() => {
  document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue(`+string(q)+`);
  const result = document.querySelector('.result-window .CodeMirror');
  if (result) result.CodeMirror.setValue('');
  return window.__playgroundtest.completed;
})()`))
		return err
	})

	step("click the execute button", func(sctx context.Context) error {
		return chromedp.Do(sctx, chromedp.Click(chromedp.CSS(".graphiql-execute-button")))
	})

	var result string
	step("wait for the result", func(sctx context.Context) error {
		var err error
		result, err = chromedp.Run(sctx, chromedp.Poll[string](fmt.Sprintf(`(() => {
  const s = window.__playgroundtest;
  if (s.completed <= %d || s.pending !== 0) return '';
  const el = document.querySelector('.result-window .CodeMirror');
  return el ? el.CodeMirror.getValue() : '';
})()`, before), chromedp.WithPollingTimeout(StepTimeout), chromedp.WithPollingInterval(50*time.Millisecond)))
		return err
	})

	if file := os.Getenv(EnvScreenshot); file != "" {
		step("screenshot", func(sctx context.Context) error {
			png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
			if err != nil {
				return err
			}
			return os.WriteFile(file, png, 0o644)
		})
	}

	step("read the page's errors", func(sctx context.Context) error {
		st, err := chromedp.Run(sctx, chromedp.Evaluate[pageReport](`({csp: window.__playgroundtest.csp, errors: window.__playgroundtest.errors})`))
		if err != nil {
			return err
		}
		for _, v := range st.CSP {
			t.Errorf("playgroundtest: Content-Security-Policy violation on %s: %s", pageURL, v)
		}
		for _, e := range st.Errors {
			t.Errorf("playgroundtest: page error on %s: %s", pageURL, e)
		}
		return nil
	})
	return result
}

type pageReport struct {
	CSP    []string `json:"csp"`
	Errors []string `json:"errors"`
}

// pageState describes the page for a failure message, best effort.
func pageState(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({
  url: location.href,
  instrumented: window.__playgroundtest || null,
  text: document.body ? document.body.innerText.slice(0, 2000) : null,
})`))
	if err != nil {
		return ""
	}
	return "\npage: " + st
}
