package auth

// WaitCache waits until the principal cache has applied every pending add
// (ristretto stores asynchronously).
func (a *Authenticator) WaitCache() {
	if a.verified != nil {
		a.verified.c.Wait()
	}
}

// Cached counts the tokens whose principal the cache holds, without
// verifying (or caching) any of them.
func (a *Authenticator) Cached(tokens []string) int {
	n := 0
	for _, tok := range tokens {
		if _, ok := a.verified.get(tokenKey(tok), a.opts.ClockSkew); ok {
			n++
		}
	}
	return n
}
