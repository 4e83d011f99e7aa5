package loaders

import "sync"

// Levels is one request's record of the rows of lists nested in other
// lists (stores → backorders → customer), so that a relation of those rows
// is read for the whole level at once instead of waiting for the batch
// window.
//
// gqlgen calls a batch resolver once per list: under a list of stores, once
// per store's page of backorders. Each call alone holds only its own page,
// and the window that gathers the pages closes early under load and splits
// the level. The batch resolver one level up (Store.backorders) holds every
// page of the level when it returns, so it records them here; the first
// page's relation then reads every page's keys in one call (Level.Once),
// and the other pages find their values in the loader's memo.
//
// A list is known by its first row's address: gqlgen hands a batch
// resolver the addresses of the rows of the slice the parent returned
// (graphql.WithBatchParentValues), so the address of the slice's first
// element, recorded here, is the address the resolver gets first.
type Levels struct {
	mu sync.Mutex
	of map[any]*Level
}

// Level is every row at one depth of the response, across all the lists
// that hold them: Rows is a []*T.
type Level struct {
	Rows any

	mu   sync.Mutex
	once map[string]*sync.Once
}

// Add records lists (each a []T, every one of them non-empty, all at one
// level) and rows, the addresses of every element of those lists in order.
func (ls *Levels) Add(firsts []any, rows any) {
	if len(firsts) == 0 {
		return
	}
	l := &Level{Rows: rows}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.of == nil {
		ls.of = make(map[any]*Level, len(firsts))
	}
	for _, f := range firsts {
		ls.of[f] = l
	}
}

// Of is the level whose list starts at first (the address of a list's first row).
func (ls *Levels) Of(first any) (*Level, bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	l, ok := ls.of[first]
	return l, ok
}

// Once runs read once for field (a response key) on this level; callers
// for the same field wait until it is done.
func (l *Level) Once(field string, read func()) {
	l.mu.Lock()
	if l.once == nil {
		l.once = make(map[string]*sync.Once)
	}
	o, ok := l.once[field]
	if !ok {
		o = new(sync.Once)
		l.once[field] = o
	}
	l.mu.Unlock()
	o.Do(read)
}
