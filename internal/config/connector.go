package config

import "flag"

// Connector configures the REST facade and the connector package it publishes.
type Connector struct{}

func (c *Connector) flags(fs *flag.FlagSet) {}
