package graph

// gqlgen reads gqlgen.yml from the module root, where its paths are rooted.
//go:generate go -C .. tool gqlgen generate
