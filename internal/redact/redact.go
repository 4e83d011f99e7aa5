// Package redact masks secrets in values that are logged or put into error
// messages. It is the one place that decides what a masked secret looks
// like, so a log line and an error never disagree about it.
package redact

import (
	"net/url"
	"strings"
)

// Mask replaces a secret.
const Mask = "xxxxx"

// URL masks the password in a URL's user info and keeps the rest, so that
// an operator can still tell which host and user a setting names. "" stays
// "", and a URL without a password is returned unchanged.
//
// A string url.Parse refuses (a bad escape, a stray character) may still
// hold a password: everything between "://" and the last "@" is masked then,
// user name included, because where the password ends cannot be known.
func URL(s string) string {
	u, err := url.Parse(s)
	if err == nil {
		if u.User == nil {
			return s
		}
		if _, has := u.User.Password(); !has {
			return s
		}
		u.User = url.UserPassword(u.User.Username(), Mask)
		return u.String()
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if j := strings.LastIndex(s, "@"); j > i+3 {
			return s[:i+3] + Mask + s[j:]
		}
	}
	return s
}
