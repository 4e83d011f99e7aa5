package playgroundtest

import (
	"fmt"
	"runtime"
	"testing"
)

// fakeTB records how ChromiumPath ends a test.
type fakeTB struct {
	testing.TB
	skipped, failed bool
	msg             string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skipped, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.failed, f.msg = true, fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func chromiumPathWith(t *testing.T, require string) *fakeTB {
	t.Helper()
	oldNames, oldPaths := chromiumNames, chromiumPaths
	chromiumNames, chromiumPaths = []string{"no-such-chromium-binary"}, []string{"/nonexistent/chromium"}
	defer func() { chromiumNames, chromiumPaths = oldNames, oldPaths }()
	t.Setenv(EnvChromium, "")
	t.Setenv(EnvRequireBrowser, require)
	f := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		ChromiumPath(f)
	}()
	<-done
	return f
}

func TestChromiumMissingSkips(t *testing.T) {
	for _, v := range []string{"", "0", "false"} {
		f := chromiumPathWith(t, v)
		if !f.skipped || f.failed {
			t.Errorf("%s=%q: skipped=%v failed=%v, want a skip", EnvRequireBrowser, v, f.skipped, f.failed)
		}
	}
}

func TestChromiumMissingFailsWhenRequired(t *testing.T) {
	for _, v := range []string{"1", "true"} {
		f := chromiumPathWith(t, v)
		if !f.failed || f.skipped {
			t.Errorf("%s=%q: skipped=%v failed=%v, want a failure", EnvRequireBrowser, v, f.skipped, f.failed)
		}
	}
}
