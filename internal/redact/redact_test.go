package redact

import "testing"

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"no user info", "http://hr.internal:8081/api", "http://hr.internal:8081/api"},
		{"user without password", "postgres://app@db:5432/mt", "postgres://app@db:5432/mt"},
		{"password", "postgres://app:s3cret@db:5432/mt?sslmode=require", "postgres://app:xxxxx@db:5432/mt?sslmode=require"},
		{"password with @", "postgres://app:s3@cret@db/mt", "postgres://app:xxxxx@db/mt"},
		{"unparseable", "mysql://app:s3%zzcret@db/mt", "mysql://xxxxx@db/mt"},
		{"unparseable, @ in password", "mysql://app:s3@c%zz@db/mt", "mysql://xxxxx@db/mt"},
		{"not a URL", "s3cret", "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := URL(tt.in); got != tt.want {
				t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
