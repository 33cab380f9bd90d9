package realms

import "strings"

// LooksLikeResourceAccessKey tells a resource's access key from a resource
// ID or name in a permission request (the protocol layer names the
// resource by key only then).
func LooksLikeResourceAccessKey(s string) bool { return strings.HasPrefix(s, accessKeyPrefix) }
