#include "operator/kube/rest/tls.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "operator/kube/rest/config.h"

namespace bgo::kube::rest {

namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

BioPtr memBio(std::string_view pem) {
  return BioPtr(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::string lastOpensslError() {
  unsigned long code = ERR_peek_last_error();
  ERR_clear_error();
  if (code == 0) return "";
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : "";
}

// Every certificate of a PEM bundle; `error` set when the bundle is empty or broken.
std::vector<X509*> readCertificates(std::string_view pem, std::string& error) {
  std::vector<X509*> out;
  ERR_clear_error();
  BioPtr bio = memBio(pem);
  while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) out.push_back(cert);
  // The loop ends with "no start line" at the end of input; anything else is a broken block.
  unsigned long code = ERR_peek_last_error();
  bool clean_end = code == 0 || (ERR_GET_LIB(code) == ERR_LIB_PEM &&
                                 ERR_GET_REASON(code) == PEM_R_NO_START_LINE);
  std::string reason = lastOpensslError();
  if (!clean_end) {
    error = "not a valid PEM certificate (" + reason + ")";
  } else if (out.empty()) {
    error = "no PEM certificate found";
  }
  if (!error.empty()) {
    for (X509* c : out) X509_free(c);
    out.clear();
  }
  return out;
}

EVP_PKEY* readKey(std::string_view pem, std::string& error) {
  ERR_clear_error();
  BioPtr bio = memBio(pem);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  if (!key) {
    std::string reason = lastOpensslError();
    error = "no valid PEM private key found" + (reason.empty() ? "" : " (" + reason + ")");
  }
  return key;
}

}  // namespace

std::string checkCertificates(std::string_view pem) {
  std::string error;
  for (X509* c : readCertificates(pem, error)) X509_free(c);
  return error;
}

std::string checkPrivateKey(std::string_view pem) {
  std::string error;
  if (EVP_PKEY* k = readKey(pem, error)) EVP_PKEY_free(k);
  return error;
}

std::string checkKeyPair(std::string_view cert_pem, std::string_view key_pem) {
  std::string error;
  auto certs = readCertificates(cert_pem, error);
  if (!error.empty()) return error;
  EVP_PKEY* key = readKey(key_pem, error);
  if (key) {
    if (X509_check_private_key(certs.front(), key) != 1) {
      error = "the client key does not belong to the client certificate";
    }
    EVP_PKEY_free(key);
  }
  ERR_clear_error();
  for (X509* c : certs) X509_free(c);
  return error;
}

std::string opensslReason(int code) {
  if (code <= 0) return "";
  const char* reason = ERR_reason_error_string(static_cast<unsigned long>(code));
  return reason ? reason : "";
}

core::Result<std::shared_ptr<const TlsMaterial>> TlsMaterial::parse(const ClusterConfig& config) {
  std::shared_ptr<TlsMaterial> m(new TlsMaterial());
  std::string error;
  if (!config.ca_pem.empty()) {
    m->ca_ = readCertificates(config.ca_pem, error);
    if (!error.empty()) return core::fail(core::ErrorCode::kConfig, config.source + ": CA: " + error);
  }
  if (!config.client_cert_pem.empty() || !config.client_key_pem.empty()) {
    if (std::string pair = checkKeyPair(config.client_cert_pem, config.client_key_pem); !pair.empty()) {
      return core::fail(core::ErrorCode::kConfig, config.source + ": client certificate: " + pair);
    }
    m->client_chain_ = readCertificates(config.client_cert_pem, error);
    m->key_ = readKey(config.client_key_pem, error);
  }
  return std::shared_ptr<const TlsMaterial>(std::move(m));
}

TlsMaterial::~TlsMaterial() {
  for (X509* c : ca_) X509_free(c);
  for (X509* c : client_chain_) X509_free(c);
  if (key_) EVP_PKEY_free(key_);
}

void TlsMaterial::applyTo(SSL_CTX* ctx) const {
  // A fresh store: without this the system CAs (set_default_verify_paths) stay trusted.
  X509_STORE* store = X509_STORE_new();
  for (X509* c : ca_) X509_STORE_add_cert(store, c);  // takes its own reference
  SSL_CTX_set_cert_store(ctx, store);                  // owns the store, frees the old one
  if (!client_chain_.empty() && key_) {
    SSL_CTX_use_certificate(ctx, client_chain_.front());
    for (size_t i = 1; i < client_chain_.size(); ++i) SSL_CTX_add1_chain_cert(ctx, client_chain_[i]);
    SSL_CTX_use_PrivateKey(ctx, key_);
  }
}

}  // namespace bgo::kube::rest
