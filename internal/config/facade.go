package config

import (
	"flag"
	"fmt"
)

// Facade tunes the REST connector facade at /api/v1.
type Facade struct {
	// ResponseCacheBytes is the memory for cached GET answers (operations
	// that declare cache: in their file); 0 turns the response cache off.
	ResponseCacheBytes int64
}

func defaultFacade() Facade { return Facade{ResponseCacheBytes: 32 << 20} }

func (f *Facade) flags(fs *flag.FlagSet) {
	fs.Int64Var(&f.ResponseCacheBytes, "response-cache-bytes", f.ResponseCacheBytes, "memory for cached connector GET answers, in bytes (0 turns the response cache off)")
}

func (f Facade) validate() []error {
	if f.ResponseCacheBytes != 0 && f.ResponseCacheBytes < 1<<20 {
		return []error{fmt.Errorf("response-cache-bytes must be 0 (off) or at least 1048576, got %d", f.ResponseCacheBytes)}
	}
	return nil
}
