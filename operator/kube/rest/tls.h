#pragma once
// TLS material parsed once with OpenSSL: the trusted CAs, the client
// certificate chain and key. Installed into each SSL context so that only the
// configured CAs are trusted (the system store is replaced, not extended).

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "operator/core/result.h"

namespace bgo::kube::rest {

struct ClusterConfig;

// Problem with a PEM bundle of certificates ("" when it holds at least one and nothing broken).
std::string checkCertificates(std::string_view pem);
// Problem with a PEM private key ("" when fine).
std::string checkPrivateKey(std::string_view pem);
// Problem with a certificate/key pair ("" when the key belongs to the certificate).
std::string checkKeyPair(std::string_view cert_pem, std::string_view key_pem);

// The OpenSSL reason text for an error code cpprestsdk passed through ("" if none).
std::string opensslReason(int code);

class TlsMaterial {
 public:
  static core::Result<std::shared_ptr<const TlsMaterial>> parse(const ClusterConfig& config);
  ~TlsMaterial();
  TlsMaterial(const TlsMaterial&) = delete;
  TlsMaterial& operator=(const TlsMaterial&) = delete;

  // Replaces the context's trust store with the configured CAs and sets the client identity.
  void applyTo(SSL_CTX* ctx) const;

 private:
  TlsMaterial() = default;
  std::vector<X509*> ca_;
  std::vector<X509*> client_chain_;  // leaf first
  EVP_PKEY* key_ = nullptr;
};

}  // namespace bgo::kube::rest
