package realms

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/gatehouse/gatehouse/store"
)

func idpService(t *testing.T) (*Service, store.Realm) {
	t.Helper()
	svc := NewService(openTestStore(t), newTestSealer(t, 3), nil)
	r, err := svc.CreateRealm(context.Background(), store.Realm{Name: "demo", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	return svc, r
}

// An identity provider's client secret is sealed at rest, bound to its realm
// and alias; the masked value keeps it, a new value replaces it, a config
// without it clears it.
func TestIdentityProviderClientSecretSealed(t *testing.T) {
	svc, r := idpService(t)
	ctx := context.Background()
	ext := map[string]string{"issuer": "https://idp.example", "jwksUrl": "https://idp.example/jwks"}
	withSecret := func(v string) map[string]string {
		c := map[string]string{"clientSecret": v}
		for k, x := range ext {
			c[k] = x
		}
		return c
	}
	if _, err := svc.CreateIdentityProvider(ctx, "demo", store.IdentityProvider{Alias: "ext", Enabled: true,
		Config: withSecret("s3cret-one")}); err != nil {
		t.Fatal(err)
	}
	stored := func() (store.IdentityProvider, string) {
		t.Helper()
		p, err := svc.Store().GetIdentityProvider(ctx, r.ID, "ext")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Config["clientSecret"]; ok || bytes.Contains(p.SealedClientSecret, []byte("s3cret")) {
			t.Fatalf("secret stored in the clear: %+v", p)
		}
		v, err := svc.IdentityProviderSecret(r.ID, p)
		if err != nil {
			t.Fatal(err)
		}
		return p, v
	}
	if _, v := stored(); v != "s3cret-one" {
		t.Fatalf("sealed secret opens to %q", v)
	}
	for _, step := range []struct {
		name string
		fn   func(*store.IdentityProvider) error
		want string
	}{
		{"config untouched", func(p *store.IdentityProvider) error { p.Enabled = false; return nil }, "s3cret-one"},
		{"masked value sent back", func(p *store.IdentityProvider) error { p.Config = withSecret(MaskedSecret); return nil }, "s3cret-one"},
		{"new value", func(p *store.IdentityProvider) error { p.Config = withSecret("s3cret-two"); return nil }, "s3cret-two"},
		{"config without it", func(p *store.IdentityProvider) error { p.Config = ext; return nil }, ""},
	} {
		if _, err := svc.UpdateIdentityProvider(ctx, "demo", "ext", step.fn); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if _, v := stored(); v != step.want {
			t.Errorf("%s: secret %q, want %q", step.name, v, step.want)
		}
	}
	// A sealed secret copied onto another provider does not open there.
	p, _ := stored()
	if _, err := svc.UpdateIdentityProvider(ctx, "demo", "ext", func(p *store.IdentityProvider) error {
		p.Config = withSecret("s3cret-three")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	p, _ = stored()
	p.Alias = "other"
	if _, err := svc.IdentityProviderSecret(r.ID, p); err == nil {
		t.Error("a sealed provider secret opened under another alias")
	}
	if _, err := svc.CreateIdentityProvider(ctx, "demo", store.IdentityProvider{Alias: "masked", Config: withSecret(MaskedSecret)}); err == nil {
		t.Error("the mask was stored as a new provider's secret")
	}
}

// A provider without a JWKS URL is a realm of this server, bound by ID when
// its issuer is set: renames of realms never move the binding, and an issuer
// naming no realm here is refused.
func TestIdentityProviderBindsLocalRealmByID(t *testing.T) {
	svc, _ := idpService(t)
	ctx := context.Background()
	cp, err := svc.CreateRealm(ctx, store.Realm{Name: "cp", Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.CreateIdentityProvider(ctx, "demo", store.IdentityProvider{Alias: "cp", Enabled: true,
		Config: map[string]string{"issuer": "http://any-host:8080/realms/cp"}})
	if err != nil || p.RealmID != cp.ID {
		t.Fatalf("bound to %q (%v), want %s", p.RealmID, err, cp.ID)
	}
	if _, err := svc.UpdateRealm(ctx, "cp", func(r *store.Realm) error { r.Name = "cp-old"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateRealm(ctx, store.Realm{Name: "cp", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	p, err = svc.UpdateIdentityProvider(ctx, "demo", "cp", func(p *store.IdentityProvider) error { p.DisplayName = "Control plane"; return nil })
	if err != nil || p.RealmID != cp.ID {
		t.Fatalf("an update that keeps the issuer rebound the provider to %q (%v), want %s", p.RealmID, err, cp.ID)
	}
	p, err = svc.UpdateIdentityProvider(ctx, "demo", "cp", func(p *store.IdentityProvider) error {
		p.Config["issuer"] = "http://any-host:8080/realms/cp-old"
		return nil
	})
	if err != nil || p.RealmID != cp.ID {
		t.Fatalf("issuer set to the renamed realm: bound to %q (%v), want %s", p.RealmID, err, cp.ID)
	}
	p, err = svc.UpdateIdentityProvider(ctx, "demo", "cp", func(p *store.IdentityProvider) error {
		p.Config["jwksUrl"] = "https://cp.example/jwks"
		return nil
	})
	if err != nil || p.RealmID != "" {
		t.Fatalf("with a JWKS URL the provider is external, got %q (%v)", p.RealmID, err)
	}
	var ve *ValidationError
	for _, iss := range []string{"https://idp.example", "https://idp.example/realms/nope", "https://idp.example/realms/a/b"} {
		_, err := svc.CreateIdentityProvider(ctx, "demo", store.IdentityProvider{Alias: "x", Config: map[string]string{"issuer": iss}})
		if !errors.As(err, &ve) {
			t.Errorf("issuer %s without jwksUrl: %v, want a validation error", iss, err)
		}
	}
}
