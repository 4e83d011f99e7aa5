package graph

// WaitCaches blocks until pending cache writes are applied: ristretto
// applies writes asynchronously, and only tests need to see them at once.
func (e *Executor) WaitCaches() {
	e.queryCache.Wait()
	e.apqCache.Wait()
}
