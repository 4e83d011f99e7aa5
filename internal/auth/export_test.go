package auth

// WaitCache waits until the principal cache has applied every pending add
// (ristretto stores asynchronously).
func (a *Authenticator) WaitCache() {
	if a.verified != nil {
		a.verified.c.Wait()
	}
}
