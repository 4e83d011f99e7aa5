package main

import (
	"context"
	"errors"
	"io"
)

func connectorCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("connector: not built yet")
}
