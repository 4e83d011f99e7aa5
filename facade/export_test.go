package facade

import "net/http"

// WithWriteStepHook returns opts with fn called at each step of every write,
// for the fault-injection tests.
func WithWriteStepHook(opts Options, fn func(r *http.Request, step WriteStep)) Options {
	opts.onWriteStep = fn
	return opts
}

// WaitResponseCache blocks until the response cache has applied or dropped
// every pending write.
func WaitResponseCache(f *Facade) {
	if f.rc != nil {
		f.rc.c.Wait()
	}
}
