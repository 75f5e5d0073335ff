package state

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestUploadHandleHasTheDocumentedShape(t *testing.T) {
	now := time.Unix(1695539910, 0)
	h := NewUploadHandle("image/jpeg", []byte("jpeg bytes"), "XFbZY1rtTKo3UD4n1", now)
	assert.Regexp(t, `^4::aW1hZ2UvanBlZw==:AR[A-Za-z0-9_-]+:e:[0-9]+:[0-9]+:AR[A-Za-z0-9_-]+$`, h)
	assert.Contains(t, h, ":e:1698131910:", "the expiry is now plus 30 days")
	mt, ok := UploadHandleMIME(h)
	assert.True(t, ok)
	assert.Equal(t, "image/jpeg", mt)
	assert.Equal(t, h, NewUploadHandle("image/jpeg", []byte("jpeg bytes"), "XFbZY1rtTKo3UD4n1", now), "the same upload, the same handle")
	assert.NotEqual(t, h, NewUploadHandle("image/jpeg", []byte("other bytes"), "XFbZY1rtTKo3UD4n1", now))
	for _, bad := range []string{"", "4::", "4::!!!:x", "5::aW1hZ2UvanBlZw==:x", "4::aW1hZ2UvanBlZw=="} {
		_, ok := UploadHandleMIME(bad)
		assert.False(t, ok, "%q", bad)
	}
}
