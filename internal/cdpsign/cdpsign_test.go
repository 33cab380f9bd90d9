package cdpsign

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// Known answers computed with OpenSSL 3 (pkeyutl -rawin for Ed25519, dgst
// -sha256 -sign for RSA) over the string the format prescribes, so the
// signer is checked against an implementation that is not Go's.
const (
	katDate = "Tue, 01 Dec 2026 15:30:00 GMT"
	// base64 of the seed 00 01 02 ... 1f
	katEdSeed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	katEdSig  = "zlFZWA59cz9O2xcQoZm7mtuS1HiGHgjXypw2i8i3NbWC6SwV_Aa_B1p-G9JHVP5tMlV33NaOgGRx7xrZYku3CQ=="
	// A throwaway key made for this test only.
	katRSAKey = `-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCMLXPjpBPX5yED
ZQQ7+T9iwxuKxwPJgU7XmaIr2xrzUjZmBunf711vYBrSzLJ31hf5yPonXEuO/AW2
5pTuKZ9x6g88RnDpa5ONSN124eye+oZ/Tz6sB70XlDgCX26dAsadRGk1Z3V5sop3
zJGbwPYLQYCeDxnni0cdsjpQ09C+U7Qt44zjHjQotx/Jvs2i+H2uPsJozpxJhxL8
5CgwWRdArXKM5BADXQy6ZVLwGaqPAR2WbHJUHCRjrmKMrsm6gRGRVwq2ZkY6bJUV
TAA1qgmP7DFEs/HnvdE85wI6/Ug/tYhYnDwNatAGW+Upmf/aUe4s8QWP9ce/0dZ6
u6ORX6vfAgMBAAECggEAIQzmchnRg+o+4moC4ZEW3NZbvBDIV85hJHxYvDZg2FXd
9ZhTtDTfts7WBDW3LoIQDRjRwk4EkqXhQwqCutSdf2JMTU3eeWqf04QGk20ZOTKg
W4v3nuAEOXb87bJKhkKNSa9Djw/hptvtwek9u5d3a5f6F0pANVOlZN8M2NnYMcd5
Mv0NfiJ+M/Qq9u13+Fut55ZAOjM9YneOpC1i/6SvT8dWIR1Cfu6eMDKX58LZifF4
o/6m7GQkK41CYaE3ddAqJBkL1/R4Xy6tIgPoV7MSFRWDV/lrEgGUQpbHFi6y0dxp
fzL3tO1sSAJ/F8B8tuR/moM+VI/IufCQBJ8IZ/TPIQKBgQC+93JKgm6V7NHCxRXG
Ilvi4S9H8pKweUndUlrJPNMf2zvzlKN0nUu0HOjEX678gMRFOAkRdvFJ5oK8CRUi
oigow4OWe4Bx/5bfzV9UJPfv4wIX5j9Mk5AlSehCAqzXhJm7avtOEJfv9GyBSife
DM8Ip7qi7sqxtIPdFMKlXD7Y+wKBgQC76jHlvvzzBMlZY2s3yGM+buN6dFIx1Q+p
+VSzOrPGrinknrtpS6yIBIXmMzIhWhEQeZIM2Ym+EHbmnYSxg/m/LqjX8w5hdNYq
sxDABNfYMsk444M9sUbRDrY5WFv0ZkvKWaP/BUmcUZMGZS9kBDri4s3uIW52Clr/
NeBj0NeLbQKBgE6Sl3bqxb9wKjpeRwA34OCv0Hlk6FAuB2NF4E7OdPu1g6xMKxjv
I1ffUTKDQAdqn9bvIGQMMWk7q+zcO9L9L1LeZwUCma3OAPDimmePsmgEWjclKERE
rtl42FRYr28ZgvtnIDFViH5VblOgBFlLod+oy5UAdWu6n0rWoOPS2ZUDAoGBAKne
7/RsTmWxcgMoaIgo0e5id6j+9j6uCFbzWaob6uA0GRLemzR4gCMFU7XhmfOkY8Cs
5WZQUMBMSe/3fTirwV0eZOuygNGAuQoojX/H4QdEAbs3kDB4zTe3QOteAOJShzkJ
B8NFmGGDLJGfbtPPLxxjQx19g0mZ2uDSZ2JULEWRAoGBALurqRebcKGmW/4XODQb
eVNBafXNsl0OOxvsiZnB0tKnkQvwYCCU625QKuFG2ligZ0LeQk0fnpMD/1Rp9vqg
h3TTajMpc2XvZKeDEovfRAskoFvdD7r7pWjQ1HKSw/JmLuDDghrpDdZENIhh9QVE
bPfX5ojmt+E9GTWlJRRHMLfP
-----END PRIVATE KEY-----
`
	katRSASig = "VUPFK7VPjbesL6gQHfYUs7hu9Pcj2Z6HR2KNcaq3mSkWdhcYvL_TfBvAjuKnxUwc_pPhjSN0adC0vIo3OcSrvWXcn8oRvNYBBl11XqRfRJbxhbSuH56dHHNkfK0Al9i8rvKDIE9jbU3r2UYuNzldHQHhqq5WC7fwJDW1nZCxtElq2ltXxgPuTgJi5RuycUxFfgg5Mq9L3HQfyYVwT5OxUXgjruDRBxPhv7ky-zUYA1pGHCGukMSX-fzqc6KJzuHUSkx4EVWcVLdxo0TJKceHlhVeCruSZpZMPlYBcewsWNp3rg2eJS45jl2LGYWSOlkX6x9Q6yZ37L9Y3twA2fprBg=="
)

func TestSignerMatchesOpenSSL(t *testing.T) {
	at, _ := time.Parse(time.RFC1123, katDate)
	for _, tc := range []struct {
		name, key, path, method, sig string
	}{
		{"ed25519v1", katEdSeed, "/api/v1/iam/generateWorkloadAuthToken", "ed25519v1", katEdSig},
		{"rsav1 with the query string", katRSAKey, "/api/v1/iam/generateWorkloadAuthToken?x=1", "rsav1", katRSASig},
	} {
		s, err := New("AK-1", tc.key)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		date, auth, err := s.Headers("POST", "application/json", tc.path, at)
		if err != nil {
			t.Fatal(err)
		}
		if date != katDate {
			t.Errorf("%s: date %q, want %q", tc.name, date, katDate)
		}
		head, sig, _ := strings.Cut(auth, ".")
		if sig != tc.sig {
			t.Errorf("%s: signature %s, want OpenSSL's %s", tc.name, sig, tc.sig)
		}
		raw, err := base64.URLEncoding.DecodeString(head)
		var m map[string]string
		if err != nil || json.Unmarshal(raw, &m) != nil || m["access_key_id"] != "AK-1" || m["auth_method"] != tc.method {
			t.Errorf("%s: head %q", tc.name, raw)
		}
	}
}
