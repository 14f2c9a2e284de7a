/* The OpenSSL calls OpenSSLAEADCipher.seal makes per packet, in plain C, for
   Benchmarks/aead-overhead.sh: usage: aead_reference COUNT SIZE. */
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv) {
    int n = atoi(argv[1]), size = atoi(argv[2]);
    unsigned char key[32] = {0x55}, nonce[12] = {0}, aad[8] = {0}, tag[16];
    unsigned char *buf = calloc(1, size + 16);
    EVP_CIPHER *c = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    EVP_CipherInit_ex2(ctx, c, key, NULL, 1, NULL);
    for (int i = 0; i < n; i++) {
        int w;
        nonce[11] = i;
        EVP_CipherInit_ex2(ctx, NULL, NULL, nonce, 1, NULL);
        EVP_CipherUpdate(ctx, NULL, &w, aad, 8);
        EVP_CipherUpdate(ctx, buf, &w, buf, size);
        EVP_CipherFinal_ex(ctx, buf + size, &w);
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16, tag);
    }
    return tag[0] == 7;
}
