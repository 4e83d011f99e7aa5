// Package deploy holds how middletier ships: build.sh (the one build of the
// binary, run by the Dockerfile and by CI), check-binary.sh (CI's check of
// that binary without a container engine) and the Kubernetes manifests in
// kubernetes/. Its tests decode every manifest strictly into the Kubernetes
// API types and hold them to the service's real endpoints and settings.
package deploy
