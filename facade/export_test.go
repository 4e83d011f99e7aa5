package facade

import "net/http"

// WithWriteStepHook returns opts with fn called at each step of every write,
// for the fault-injection tests.
func WithWriteStepHook(opts Options, fn func(r *http.Request, step WriteStep)) Options {
	opts.onWriteStep = fn
	return opts
}
