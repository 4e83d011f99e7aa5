package main

import (
	"context"
	"errors"
	"io"
)

func tokenCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("token: not built yet")
}
