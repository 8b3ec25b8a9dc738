#ifndef PROBITY_COPENSSL_SHIM_H
#define PROBITY_COPENSSL_SHIM_H

/* SHA256_Init and friends are deprecated in OpenSSL 3 but remain the fastest streaming API. */
#define OPENSSL_SUPPRESS_DEPRECATED

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/bio.h>
#include <openssl/ts.h>
#include <openssl/x509.h>
#include <openssl/pkcs7.h>

/* BIO_get_mem_data is a macro; Swift cannot call macros directly. */
static inline long probity_BIO_get_mem_data(BIO *bio, char **out) {
    return BIO_get_mem_data(bio, out);
}

/* OPENSSL_malloc and OPENSSL_free are macros. TS_VERIFY_CTX takes ownership of an imprint buffer
   allocated with OPENSSL_malloc. */
static inline unsigned char *probity_openssl_copy(const unsigned char *bytes, size_t count) {
    unsigned char *copy = OPENSSL_malloc(count);
    if (copy != NULL) memcpy(copy, bytes, count);
    return copy;
}

static inline void probity_openssl_free(void *pointer) {
    OPENSSL_free(pointer);
}

/* The number of certificates in a STACK_OF(X509) and one of them (sk_X509_* are macro-generated). */
static inline int probity_sk_X509_num(const STACK_OF(X509) *stack) {
    return sk_X509_num(stack);
}

static inline X509 *probity_sk_X509_value(const STACK_OF(X509) *stack, int i) {
    return sk_X509_value(stack, i);
}

static inline void probity_sk_X509_free(STACK_OF(X509) *stack) {
    sk_X509_free(stack);
}

#endif
