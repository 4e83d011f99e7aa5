// Package replicastest gives tests the shared engines of a scaled-out
// deployment: Redis under a key prefix of the test's own, when
// MIDDLETIER_TEST_REDIS_URL is set.
package replicastest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// RedisEnv names the variable that enables the Redis tests.
const RedisEnv = "MIDDLETIER_TEST_REDIS_URL"

// RedisURL returns the test Redis and a key prefix no other test uses,
// whose keys are deleted when the test ends; it skips the test when
// MIDDLETIER_TEST_REDIS_URL is not set.
func RedisURL(t testing.TB) (url, prefix string) {
	t.Helper()
	url = os.Getenv(RedisEnv)
	if url == "" {
		t.Skipf("Redis tests skipped: %s is not set", RedisEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix = "mt-test-" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		opts, err := redis.ParseURL(url)
		if err != nil {
			t.Errorf("%s: %v", RedisEnv, err)
			return
		}
		c := redis.NewClient(opts)
		defer c.Close()
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		if err := iter.Err(); err != nil {
			t.Errorf("clean up redis keys %s*: %v", prefix, err)
		}
	})
	return url, prefix
}
