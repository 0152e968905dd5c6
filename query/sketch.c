/* The quantile sketch and HyperLogLog of sketch.h. */
#include "query/sketch.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "storage/common/endian.h"

#define GAMMA     ((1.0 + SDB_SKETCH_ALPHA) / (1.0 - SDB_SKETCH_ALPHA))
#define MAX_INDEX 400000 /* |index| of any finite double is below 36,000 */

void sdb_sketch_init(sdb_sketch *s)
{
    memset(s, 0, sizeof *s);
    s->min = INFINITY;
    s->max = -INFINITY;
}

/* The bucket of v > 0 by definition: the i with GAMMA^(i-1) < v <= GAMMA^i. */
static int32_t bucket_exact(double v)
{
    return (int32_t)ceil(log(v) / log(GAMMA));
}

/* ln(1 + k/256) and 1 / (1 + k/256) for the top 8 mantissa bits k (hex floats, generated
 * once with a correctly rounded log). */
static const double ln_m0[256] = {
    0x0.0p+0, 0x1.ff00aa2b10bc0p-9, 0x1.fe02a6b106789p-8,
    0x1.7dc475f810a77p-7, 0x1.fc0a8b0fc03e4p-7, 0x1.3cea44346a575p-6,
    0x1.7b91b07d5b11bp-6, 0x1.b9fc027af9198p-6, 0x1.f829b0e783300p-6,
    0x1.1b0d98923d980p-5, 0x1.39e87b9febd60p-5, 0x1.58a5bafc8e4d5p-5,
    0x1.77458f632dcfcp-5, 0x1.95c830ec8e3ebp-5, 0x1.b42dd711971bfp-5,
    0x1.d276b8adb0b52p-5, 0x1.f0a30c01162a6p-5, 0x1.075983598e471p-4,
    0x1.16536eea37ae1p-4, 0x1.253f62f0a1417p-4, 0x1.341d7961bd1d1p-4,
    0x1.42edcbea646f0p-4, 0x1.51b073f06183fp-4, 0x1.60658a93750c4p-4,
    0x1.6f0d28ae56b4cp-4, 0x1.7da766d7b12cdp-4, 0x1.8c345d6319b21p-4,
    0x1.9ab42462033adp-4, 0x1.a926d3a4ad563p-4, 0x1.b78c82bb0eda1p-4,
    0x1.c5e548f5bc743p-4, 0x1.d4313d66cb35dp-4, 0x1.e27076e2af2e6p-4,
    0x1.f0a30c01162a6p-4, 0x1.fec9131dbeabbp-4, 0x1.0671512ca596ep-3,
    0x1.0d77e7cd08e59p-3, 0x1.14785846742acp-3, 0x1.1b72ad52f67a0p-3,
    0x1.2266f190a5acbp-3, 0x1.29552f81ff523p-3, 0x1.303d718e47fd3p-3,
    0x1.371fc201e8f74p-3, 0x1.3dfc2b0ecc62ap-3, 0x1.44d2b6ccb7d1ep-3,
    0x1.4ba36f39a55e5p-3, 0x1.526e5e3a1b438p-3, 0x1.59338d9982086p-3,
    0x1.5ff3070a793d4p-3, 0x1.66acd4272ad51p-3, 0x1.6d60fe719d21dp-3,
    0x1.740f8f54037a5p-3, 0x1.7ab890210d909p-3, 0x1.815c0a14357ebp-3,
    0x1.87fa06520c911p-3, 0x1.8e928de886d41p-3, 0x1.9525a9cf456b4p-3,
    0x1.9bb362e7dfb83p-3, 0x1.a23bc1fe2b563p-3, 0x1.a8becfc882f19p-3,
    0x1.af3c94e80bff3p-3, 0x1.b5b519e8fb5a4p-3, 0x1.bc286742d8cd6p-3,
    0x1.c2968558c18c1p-3, 0x1.c8ff7c79a9a22p-3, 0x1.cf6354e09c5dcp-3,
    0x1.d5c216b4fbb91p-3, 0x1.dc1bca0abec7dp-3, 0x1.e27076e2af2e6p-3,
    0x1.e8c0252aa5a60p-3, 0x1.ef0adcbdc5936p-3, 0x1.f550a564b7b37p-3,
    0x1.fb9186d5e3e2bp-3, 0x1.00e6c45ad501dp-2, 0x1.0402594b4d041p-2,
    0x1.071b85fcd590dp-2, 0x1.0a324e27390e3p-2, 0x1.0d46b579ab74bp-2,
    0x1.1058bf9ae4ad5p-2, 0x1.136870293a8b0p-2, 0x1.1675cababa60ep-2,
    0x1.1980d2dd4236fp-2, 0x1.1c898c16999fbp-2, 0x1.1f8ff9e48a2f3p-2,
    0x1.22941fbcf7966p-2, 0x1.2596010df763ap-2, 0x1.2895a13de86a3p-2,
    0x1.2b9303ab89d25p-2, 0x1.2e8e2bae11d31p-2, 0x1.31871c9544185p-2,
    0x1.347dd9a987d55p-2, 0x1.3772662bfd85bp-2, 0x1.3a64c556945eap-2,
    0x1.3d54fa5c1f710p-2, 0x1.404308686a7e4p-2, 0x1.432ef2a04e814p-2,
    0x1.4618bc21c5ec2p-2, 0x1.49006804009d1p-2, 0x1.4be5f957778a1p-2,
    0x1.4ec973260026ap-2, 0x1.51aad872df82dp-2, 0x1.548a2c3add263p-2,
    0x1.5767717455a6cp-2, 0x1.5a42ab0f4cfe2p-2, 0x1.5d1bdbf5809cap-2,
    0x1.5ff3070a793d4p-2, 0x1.62c82f2b9c795p-2, 0x1.659b57303e1f3p-2,
    0x1.686c81e9b14afp-2, 0x1.6b3bb2235943ep-2, 0x1.6e08eaa2ba1e4p-2,
    0x1.70d42e2789236p-2, 0x1.739d7f6bbd007p-2, 0x1.7664e1239dbcfp-2,
    0x1.792a55fdd47a2p-2, 0x1.7bede0a37afc0p-2, 0x1.7eaf83b82afc3p-2,
    0x1.816f41da0d496p-2, 0x1.842d1da1e8b17p-2, 0x1.86e919a330ba0p-2,
    0x1.89a3386c1425bp-2, 0x1.8c5b7c858b48bp-2, 0x1.8f11e873662c7p-2,
    0x1.91c67eb45a83ep-2, 0x1.947941c2116fbp-2, 0x1.972a341135158p-2,
    0x1.99d958117e08bp-2, 0x1.9c86b02dc0863p-2, 0x1.9f323ecbf984cp-2,
    0x1.a1dc064d5b995p-2, 0x1.a484090e5bb0ap-2, 0x1.a72a4966bd9eap-2,
    0x1.a9cec9a9a084ap-2, 0x1.ac718c258b0e4p-2, 0x1.af1293247786bp-2,
    0x1.b1b1e0ebdfc5bp-2, 0x1.b44f77bcc8f63p-2, 0x1.b6eb59d3cf35ep-2,
    0x1.b9858969310fbp-2, 0x1.bc1e08b0dad0ap-2, 0x1.beb4d9da71b7cp-2,
    0x1.c149ff115f027p-2, 0x1.c3dd7a7cdad4dp-2, 0x1.c66f4e3ff6ff8p-2,
    0x1.c8ff7c79a9a22p-2, 0x1.cb8e0744d7acap-2, 0x1.ce1af0b85f3ebp-2,
    0x1.d0a63ae721e64p-2, 0x1.d32fe7e00ebd5p-2, 0x1.d5b7f9ae2c684p-2,
    0x1.d83e7258a2f3ep-2, 0x1.dac353e2c5954p-2, 0x1.dd46a04c1c4a1p-2,
    0x1.dfc859906d5b5p-2, 0x1.e24881a7c6c26p-2, 0x1.e4c71a8687704p-2,
    0x1.e744261d68788p-2, 0x1.e9bfa659861f5p-2, 0x1.ec399d2468cc0p-2,
    0x1.eeb20c640ddf4p-2, 0x1.f128f5faf06edp-2, 0x1.f39e5bc811e5cp-2,
    0x1.f6123fa7028acp-2, 0x1.f884a36fe9ec2p-2, 0x1.faf588f78f31fp-2,
    0x1.fd64f20f61572p-2, 0x1.ffd2e0857f498p-2, 0x1.011fab125ff8ap-1,
    0x1.02552a5a5d0ffp-1, 0x1.0389eefce633bp-1, 0x1.04bdf9da926d2p-1,
    0x1.05f14bd26459cp-1, 0x1.0723e5c1cdf40p-1, 0x1.0855c884b450ep-1,
    0x1.0986f4f573521p-1, 0x1.0ab76bece14d2p-1, 0x1.0be72e4252a83p-1,
    0x1.0d163ccb9d6b8p-1, 0x1.0e44985d1cc8cp-1, 0x1.0f7241c9b497dp-1,
    0x1.109f39e2d4c97p-1, 0x1.11cb81787ccf8p-1, 0x1.12f719593efbcp-1,
    0x1.1422025243d45p-1, 0x1.154c3d2f4d5eap-1, 0x1.1675cababa60ep-1,
    0x1.179eabbd899a1p-1, 0x1.18c6e0ff5cf06p-1, 0x1.19ee6b467c96fp-1,
    0x1.1b154b57da29fp-1, 0x1.1c3b81f713c25p-1, 0x1.1d610fe677003p-1,
    0x1.1e85f5e7040d0p-1, 0x1.1faa34b87094cp-1, 0x1.20cdcd192ab6ep-1,
    0x1.21f0bfc65beecp-1, 0x1.23130d7bebf43p-1, 0x1.2434b6f483934p-1,
    0x1.2555bce98f7cbp-1, 0x1.26762013430e0p-1, 0x1.2795e1289b11bp-1,
    0x1.28b500df60783p-1, 0x1.29d37fec2b08bp-1, 0x1.2af15f02640adp-1,
    0x1.2c0e9ed448e8cp-1, 0x1.2d2b4012edc9ep-1, 0x1.2e47436e40268p-1,
    0x1.2f62a99509546p-1, 0x1.307d7334f10bep-1, 0x1.3197a0fa7fe6ap-1,
    0x1.32b1339121d71p-1, 0x1.33ca2ba328995p-1, 0x1.34e289d9ce1d3p-1,
    0x1.35fa4edd36ea0p-1, 0x1.37117b54747b6p-1, 0x1.38280fe58797fp-1,
    0x1.393e0d3562a1ap-1, 0x1.3a5373e7ebdfap-1, 0x1.3b68449fffc23p-1,
    0x1.3c7c7fff73206p-1, 0x1.3d9026a7156fbp-1, 0x1.3ea33936b2f5cp-1,
    0x1.3fb5b84d16f42p-1, 0x1.40c7a4880dce9p-1, 0x1.41d8fe84672aep-1,
    0x1.42e9c6ddf80bfp-1, 0x1.43f9fe2f9ce67p-1, 0x1.4509a5133bb0ap-1,
    0x1.4618bc21c5ec2p-1, 0x1.472743f33aaadp-1, 0x1.48353d1ea88dfp-1,
    0x1.4942a83a2fc07p-1, 0x1.4a4f85db03ebbp-1, 0x1.4b5bd6956e274p-1,
    0x1.4c679afccee3ap-1, 0x1.4d72d3a39fd00p-1, 0x1.4e7d811b75bb1p-1,
    0x1.4f87a3f5026e9p-1, 0x1.50913cc01686bp-1, 0x1.519a4c0ba3446p-1,
    0x1.52a2d265bc5abp-1, 0x1.53aad05b99b7dp-1, 0x1.54b2467999498p-1,
    0x1.55b9354b40bcdp-1, 0x1.56bf9d5b3f399p-1, 0x1.57c57f336f191p-1,
    0x1.58cadb5cd7989p-1, 0x1.59cfb25fae87ep-1, 0x1.5ad404c359f2dp-1,
    0x1.5bd7d30e71c73p-1, 0x1.5cdb1dc6c1765p-1, 0x1.5ddde57149923p-1,
    0x1.5ee02a9241675p-1, 0x1.5fe1edad18919p-1, 0x1.60e32f44788d9p-1,
    0x1.61e3efda46467p-1,
};
static const double inv_m0[256] = {
    0x1.0000000000000p+0, 0x1.fe01fe01fe020p-1, 0x1.fc07f01fc07f0p-1,
    0x1.fa11caa01fa12p-1, 0x1.f81f81f81f820p-1, 0x1.f6310aca0dbb5p-1,
    0x1.f44659e4a4271p-1, 0x1.f25f644230ab5p-1, 0x1.f07c1f07c1f08p-1,
    0x1.ee9c7f8458e02p-1, 0x1.ecc07b301ecc0p-1, 0x1.eae807aba01ebp-1,
    0x1.e9131abf0b767p-1, 0x1.e741aa59750e4p-1, 0x1.e573ac901e574p-1,
    0x1.e3a9179dc1a73p-1, 0x1.e1e1e1e1e1e1ep-1, 0x1.e01e01e01e01ep-1,
    0x1.de5d6e3f8868ap-1, 0x1.dca01dca01dcap-1, 0x1.dae6076b981dbp-1,
    0x1.d92f2231e7f8ap-1, 0x1.d77b654b82c34p-1, 0x1.d5cac807572b2p-1,
    0x1.d41d41d41d41dp-1, 0x1.d272ca3fc5b1ap-1, 0x1.d0cb58f6ec074p-1,
    0x1.cf26e5c44bfc6p-1, 0x1.cd85689039b0bp-1, 0x1.cbe6d9601cbe7p-1,
    0x1.ca4b3055ee191p-1, 0x1.c8b265afb8a42p-1, 0x1.c71c71c71c71cp-1,
    0x1.c5894d10d4986p-1, 0x1.c3f8f01c3f8f0p-1, 0x1.c26b5392ea01cp-1,
    0x1.c0e070381c0e0p-1, 0x1.bf583ee868d8bp-1, 0x1.bdd2b899406f7p-1,
    0x1.bc4fd65883e7bp-1, 0x1.bacf914c1bad0p-1, 0x1.b951e2b18ff23p-1,
    0x1.b7d6c3dda338bp-1, 0x1.b65e2e3beee05p-1, 0x1.b4e81b4e81b4fp-1,
    0x1.b37484ad806cep-1, 0x1.b2036406c80d9p-1, 0x1.b094b31d922a4p-1,
    0x1.af286bca1af28p-1, 0x1.adbe87f94905ep-1, 0x1.ac5701ac5701bp-1,
    0x1.aaf1d2f87ebfdp-1, 0x1.a98ef606a63bep-1, 0x1.a82e65130e159p-1,
    0x1.a6d01a6d01a6dp-1, 0x1.a574107688a4ap-1, 0x1.a41a41a41a41ap-1,
    0x1.a2c2a87c51ca0p-1, 0x1.a16d3f97a4b02p-1, 0x1.a01a01a01a01ap-1,
    0x1.9ec8e951033d9p-1, 0x1.9d79f176b682dp-1, 0x1.9c2d14ee4a102p-1,
    0x1.9ae24ea5510dap-1, 0x1.999999999999ap-1, 0x1.9852f0d8ec0ffp-1,
    0x1.970e4f80cb872p-1, 0x1.95cbb0be377aep-1, 0x1.948b0fcd6e9e0p-1,
    0x1.934c67f9b2ce6p-1, 0x1.920fb49d0e229p-1, 0x1.90d4f120190d5p-1,
    0x1.8f9c18f9c18fap-1, 0x1.8e6527af1373fp-1, 0x1.8d3018d3018d3p-1,
    0x1.8bfce8062ff3ap-1, 0x1.8acb90f6bf3aap-1, 0x1.899c0f601899cp-1,
    0x1.886e5f0abb04ap-1, 0x1.87427bcc092b9p-1, 0x1.8618618618618p-1,
    0x1.84f00c2780614p-1, 0x1.83c977ab2beddp-1, 0x1.82a4a0182a4a0p-1,
    0x1.8181818181818p-1, 0x1.8060180601806p-1, 0x1.7f405fd017f40p-1,
    0x1.7e225515a4f1dp-1, 0x1.7d05f417d05f4p-1, 0x1.7beb3922e017cp-1,
    0x1.7ad2208e0ecc3p-1, 0x1.79baa6bb6398bp-1, 0x1.78a4c8178a4c8p-1,
    0x1.77908119ac60dp-1, 0x1.767dce434a9b1p-1, 0x1.756cac201756dp-1,
    0x1.745d1745d1746p-1, 0x1.734f0c541fe8dp-1, 0x1.724287f46debcp-1,
    0x1.713786d9c7c09p-1, 0x1.702e05c0b8170p-1, 0x1.6f26016f26017p-1,
    0x1.6e1f76b4337c7p-1, 0x1.6d1a62681c861p-1, 0x1.6c16c16c16c17p-1,
    0x1.6b1490aa31a3dp-1, 0x1.6a13cd1537290p-1, 0x1.691473a88d0c0p-1,
    0x1.6816816816817p-1, 0x1.6719f3601671ap-1, 0x1.661ec6a5122f9p-1,
    0x1.6524f853b4aa3p-1, 0x1.642c8590b2164p-1, 0x1.63356b88ac0dep-1,
    0x1.623fa77016240p-1, 0x1.614b36831ae94p-1, 0x1.6058160581606p-1,
    0x1.5f66434292dfcp-1, 0x1.5e75bb8d015e7p-1, 0x1.5d867c3ece2a5p-1,
    0x1.5c9882b931057p-1, 0x1.5babcc647fa91p-1, 0x1.5ac056b015ac0p-1,
    0x1.59d61f123ccaap-1, 0x1.58ed2308158edp-1, 0x1.5805601580560p-1,
    0x1.571ed3c506b3ap-1, 0x1.56397ba7c52e2p-1, 0x1.5555555555555p-1,
    0x1.54725e6bb82fep-1, 0x1.5390948f40febp-1, 0x1.52aff56a8054bp-1,
    0x1.51d07eae2f815p-1, 0x1.50f22e111c4c5p-1, 0x1.5015015015015p-1,
    0x1.4f38f62dd4c9bp-1, 0x1.4e5e0a72f0539p-1, 0x1.4d843bedc2c4cp-1,
    0x1.4cab88725af6ep-1, 0x1.4bd3edda68fe1p-1, 0x1.4afd6a052bf5bp-1,
    0x1.4a27fad76014ap-1, 0x1.49539e3b2d067p-1, 0x1.4880522014880p-1,
    0x1.47ae147ae147bp-1, 0x1.46dce34596066p-1, 0x1.460cbc7f5cf9ap-1,
    0x1.453d9e2c776cap-1, 0x1.446f86562d9fbp-1, 0x1.43a2730abee4dp-1,
    0x1.42d6625d51f87p-1, 0x1.420b5265e5951p-1, 0x1.4141414141414p-1,
    0x1.40782d10e6566p-1, 0x1.3fb013fb013fbp-1, 0x1.3ee8f42a5af07p-1,
    0x1.3e22cbce4a902p-1, 0x1.3d5d991aa75c6p-1, 0x1.3c995a47babe7p-1,
    0x1.3bd60d9232955p-1, 0x1.3b13b13b13b14p-1, 0x1.3a524387ac822p-1,
    0x1.3991c2c187f63p-1, 0x1.38d22d366088ep-1, 0x1.3813813813814p-1,
    0x1.3755bd1c945eep-1, 0x1.3698df3de0748p-1, 0x1.35dce5f9f2af8p-1,
    0x1.3521cfb2b78c1p-1, 0x1.34679ace01346p-1, 0x1.33ae45b57bcb2p-1,
    0x1.32f5ced6a1dfap-1, 0x1.323e34a2b10bfp-1, 0x1.3187758e9ebb6p-1,
    0x1.30d190130d190p-1, 0x1.301c82ac40260p-1, 0x1.2f684bda12f68p-1,
    0x1.2eb4ea1fed14bp-1, 0x1.2e025c04b8097p-1, 0x1.2d50a012d50a0p-1,
    0x1.2c9fb4d812ca0p-1, 0x1.2bef98e5a3711p-1, 0x1.2b404ad012b40p-1,
    0x1.2a91c92f3c105p-1, 0x1.29e4129e4129ep-1, 0x1.293725bb804a5p-1,
    0x1.288b01288b013p-1, 0x1.27dfa38a1ce4dp-1, 0x1.27350b8812735p-1,
    0x1.268b37cd60127p-1, 0x1.25e22708092f1p-1, 0x1.2539d7e9177b2p-1,
    0x1.2492492492492p-1, 0x1.23eb79717605bp-1, 0x1.23456789abcdfp-1,
    0x1.22a0122a0122ap-1, 0x1.21fb78121fb78p-1, 0x1.21579804855e6p-1,
    0x1.20b470c67c0d9p-1, 0x1.2012012012012p-1, 0x1.1f7047dc11f70p-1,
    0x1.1ecf43c7fb84cp-1, 0x1.1e2ef3b3fb874p-1, 0x1.1d8f5672e4abdp-1,
    0x1.1cf06ada2811dp-1, 0x1.1c522fc1ce059p-1, 0x1.1bb4a4046ed29p-1,
    0x1.1b17c67f2bae3p-1, 0x1.1a7b9611a7b96p-1, 0x1.19e0119e0119ep-1,
    0x1.19453808ca29cp-1, 0x1.18ab083902bdbp-1, 0x1.1811811811812p-1,
    0x1.1778a191bd684p-1, 0x1.16e0689427379p-1, 0x1.1648d50fc3201p-1,
    0x1.15b1e5f75270dp-1, 0x1.151b9a3fdd5c9p-1, 0x1.1485f0e0acd3bp-1,
    0x1.13f0e8d344724p-1, 0x1.135c81135c811p-1, 0x1.12c8b89edc0acp-1,
    0x1.12358e75d3033p-1, 0x1.11a3019a74826p-1, 0x1.1111111111111p-1,
    0x1.107fbbe011080p-1, 0x1.0fef010fef011p-1, 0x1.0f5edfab325a2p-1,
    0x1.0ecf56be69c90p-1, 0x1.0e40655826011p-1, 0x1.0db20a88f4696p-1,
    0x1.0d24456359e3ap-1, 0x1.0c9714fbcda3bp-1, 0x1.0c0a7868b4171p-1,
    0x1.0b7e6ec259dc8p-1, 0x1.0af2f722eecb5p-1, 0x1.0a6810a6810a7p-1,
    0x1.09ddba6af8360p-1, 0x1.0953f39010954p-1, 0x1.08cabb37565e2p-1,
    0x1.0842108421084p-1, 0x1.07b9f29b8eae2p-1, 0x1.073260a47f7c6p-1,
    0x1.06ab59c7912fbp-1, 0x1.0624dd2f1a9fcp-1, 0x1.059eea0727586p-1,
    0x1.05197f7d73404p-1, 0x1.04949cc1664c5p-1, 0x1.0410410410410p-1,
    0x1.038c6b78247fcp-1, 0x1.03091b51f5e1ap-1, 0x1.02864fc7729e9p-1,
    0x1.0204081020408p-1, 0x1.0182436517a37p-1, 0x1.0101010101010p-1,
    0x1.0080402010080p-1,
};

/* The same bucket without libm's log: v = 2^e * m, m = m0 * (1 + r) with m0 = 1 + k/256 from
 * the top mantissa bits and 0 <= r < 1/256, so ln v = e ln 2 + ln m0 + log1p(r), log1p by six
 * terms of its series (error below 1e-15). Where ln v / ln GAMMA lands within 1e-7 of an
 * integer (a bucket boundary; the approximation is off by far less) the exact formula decides,
 * so every value gets the bucket bucket_exact gives. v must be a normal double > 0. */
static inline int32_t bucket_of(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, 8);
    const int64_t e = (int64_t)(bits >> 52) - 1023;
    const uint32_t k = (uint32_t)(bits >> 44) & 255;
    const uint64_t mbits = (bits & UINT64_C(0x000fffffffffffff)) | UINT64_C(0x3ff0000000000000);
    double m, r, l, x, f;
    memcpy(&m, &mbits, 8);
    r = m * inv_m0[k] - 1.0;
    l = r * (1.0 + r * (-0.5 + r * (1.0 / 3 + r * (-0.25 + r * (0.2 - r * (1.0 / 6))))));
    x = ((double)e * 0x1.62e42fefa39efp-1 + ln_m0[k] + l) * (1.0 / log(GAMMA));
    /* ceil without libm: |x| < 40,000, so truncation to int is exact and one up where it
       fell below x */
    int32_t i = (int32_t)x;
    i += (double)i < x;
    f = (double)i;
    if (f - x < 1e-7 || f - x > 1.0 - 1e-7)
        return bucket_exact(v);
    return i;
}

static double bucket_value(int32_t i)
{
    return 2.0 * pow(GAMMA, (double)i) / (GAMMA + 1.0);
}

/* Make room for index i in st. */
static sdb_rc store_reach(sdb_sketch_store *st, const sdb_alloc *al, int32_t i, sdb_err *err)
{
    int32_t lo, hi;
    uint32_t need, cap;
    uint64_t *nc;
    if (st->n == 0) {
        lo = hi = i;
    } else {
        if (i >= st->off && i < st->off + (int32_t)st->n)
            return SDB_OK;
        lo = i < st->off ? i : st->off;
        hi = i > st->off + (int32_t)st->n - 1 ? i : st->off + (int32_t)st->n - 1;
    }
    need = (uint32_t)(hi - lo + 1);
    if (st->n > 0 && lo == st->off && need <= st->cap) {
        memset(st->c + st->n, 0, (need - st->n) * sizeof *st->c);
        st->n = need;
        return SDB_OK;
    }
    cap = need < 32 ? 32 : need + need / 2;
    if ((nc = sdb_alloc_get(al, cap * sizeof *nc, err)) == NULL)
        return err->code;
    memset(nc, 0, cap * sizeof *nc);
    if (st->n > 0)
        memcpy(nc + (st->off - lo), st->c, st->n * sizeof *nc);
    st->c = nc;
    st->cap = cap;
    st->off = lo;
    st->n = need;
    return SDB_OK;
}

static inline sdb_rc store_add(sdb_sketch_store *st, const sdb_alloc *al, int32_t i, uint64_t c,
                               sdb_err *err)
{
    if (st->n == 0 || i < st->off || i >= st->off + (int32_t)st->n)
        SDB_TRY(store_reach(st, al, i, err));
    st->c[i - st->off] += c;
    return SDB_OK;
}

/* Fold v, whose bucket (when |v| >= 1e-300 and finite) is idx, into s. */
static inline sdb_rc add_indexed(sdb_sketch *s, const sdb_alloc *al, double v, int32_t idx,
                                 sdb_err *err)
{
    if (!isfinite(v))
        return SDB_OK;
    if (v >= 1e-300)
        SDB_TRY(store_add(&s->pos, al, idx, 1, err));
    else if (v <= -1e-300)
        SDB_TRY(store_add(&s->neg, al, idx, 1, err));
    else
        s->zeros++;
    s->count++;
    if (v < s->min)
        s->min = v;
    if (v > s->max)
        s->max = v;
    return SDB_OK;
}

/* The bucket of |v| where add_indexed needs one, else 0. */
static inline int32_t index_of(double v)
{
    double a = fabs(v);
    return a >= 1e-300 && a <= DBL_MAX ? bucket_of(a) : 0;
}

sdb_rc sdb_sketch_add(sdb_sketch *s, const sdb_alloc *al, double v, sdb_err *err)
{
    return add_indexed(s, al, v, index_of(v), err);
}

sdb_rc sdb_sketch_add_many(sdb_sketch *const *s, const double *v, uint32_t n,
                           const sdb_alloc *al, sdb_err *err)
{
    int32_t idx[256];
    for (uint32_t base = 0; base < n; base += 256) {
        uint32_t m = n - base < 256 ? n - base : 256;
        /* the buckets first: independent of each other, so they overlap in the pipeline */
        for (uint32_t j = 0; j < m; j++)
            idx[j] = index_of(v[base + j]);
        for (uint32_t j = 0; j < m; j++)
            SDB_TRY(add_indexed(s[base + j], al, v[base + j], idx[j], err));
    }
    return SDB_OK;
}

static sdb_rc store_merge(sdb_sketch_store *d, const sdb_alloc *al, const sdb_sketch_store *s,
                          sdb_err *err)
{
    if (s->n == 0)
        return SDB_OK;
    SDB_TRY(store_reach(d, al, s->off, err));
    SDB_TRY(store_reach(d, al, s->off + (int32_t)s->n - 1, err));
    for (uint32_t k = 0; k < s->n; k++)
        d->c[s->off + (int32_t)k - d->off] += s->c[k];
    return SDB_OK;
}

sdb_rc sdb_sketch_merge(sdb_sketch *dst, const sdb_alloc *al, const sdb_sketch *src, sdb_err *err)
{
    SDB_TRY(store_merge(&dst->pos, al, &src->pos, err));
    SDB_TRY(store_merge(&dst->neg, al, &src->neg, err));
    dst->zeros += src->zeros;
    dst->count += src->count;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
    return SDB_OK;
}

bool sdb_sketch_quantile(const sdb_sketch *s, double q, double *out)
{
    uint64_t rank, seen = 0;
    double v = 0;
    bool found = false;
    if (s->count == 0)
        return false;
    if (q < 0)
        q = 0;
    if (q > 1)
        q = 1;
    {
        /* 0-based lower closest rank; a decoded count near 2^64 must not overflow the cast */
        double r = floor(q * (double)(s->count - 1));
        rank = r < 18446744073709551616.0 ? (uint64_t)r : s->count - 1;
        if (rank > s->count - 1)
            rank = s->count - 1;
    }
    /* most negative first: the mirrored store from its highest index down */
    for (uint32_t k = s->neg.n; k-- > 0 && !found;) {
        seen += s->neg.c[k];
        if (seen > rank) {
            v = -bucket_value(s->neg.off + (int32_t)k);
            found = true;
        }
    }
    if (!found) {
        seen += s->zeros;
        if (seen > rank) {
            v = 0;
            found = true;
        }
    }
    for (uint32_t k = 0; k < s->pos.n && !found; k++) {
        seen += s->pos.c[k];
        if (seen > rank) {
            v = bucket_value(s->pos.off + (int32_t)k);
            found = true;
        }
    }
    if (!found)
        v = s->max;
    if (v < s->min)
        v = s->min;
    if (v > s->max)
        v = s->max;
    *out = v;
    return true;
}

static sdb_rc store_ser(const sdb_sketch_store *st, sdb_buf *b, sdb_err *err)
{
    SDB_TRY(sdb_buf_put_le32(b, (uint32_t)st->off, err));
    SDB_TRY(sdb_buf_put_le32(b, st->n, err));
    for (uint32_t k = 0; k < st->n; k++)
        SDB_TRY(sdb_buf_put_le64(b, st->c[k], err));
    return SDB_OK;
}

sdb_rc sdb_sketch_serialize(const sdb_sketch *s, sdb_buf *b, sdb_err *err)
{
    uint64_t bits;
    SDB_TRY(sdb_buf_put_u8(b, 1, err)); /* version */
    SDB_TRY(sdb_buf_put_le64(b, s->zeros, err));
    SDB_TRY(sdb_buf_put_le64(b, s->count, err));
    memcpy(&bits, &s->min, 8);
    SDB_TRY(sdb_buf_put_le64(b, bits, err));
    memcpy(&bits, &s->max, 8);
    SDB_TRY(sdb_buf_put_le64(b, bits, err));
    SDB_TRY(store_ser(&s->pos, b, err));
    return store_ser(&s->neg, b, err);
}

static sdb_rc store_de(sdb_sketch_store *st, const sdb_alloc *al, const uint8_t **pp,
                       const uint8_t *end, sdb_err *err)
{
    const uint8_t *p = *pp;
    int32_t off;
    uint32_t n;
    if (end - p < 8)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: truncated store header");
    off = (int32_t)sdb_get_le32(p);
    n = sdb_get_le32(p + 4);
    p += 8;
    if (n > 2 * MAX_INDEX || off < -MAX_INDEX || (int64_t)off + n > MAX_INDEX + 1 ||
        (size_t)(end - p) / 8 < n)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: store of %u buckets at %d is invalid", n,
                        off);
    for (uint32_t k = 0; k < n; k++) {
        uint64_t c = sdb_get_le64(p + 8 * k);
        if (c != 0)
            SDB_TRY(store_add(st, al, off + (int32_t)k, c, err));
    }
    *pp = p + 8 * (size_t)n;
    return SDB_OK;
}

sdb_rc sdb_sketch_deserialize(sdb_sketch *s, const sdb_alloc *al, const void *data, size_t n,
                              sdb_err *err)
{
    const uint8_t *p = data, *end = p + n;
    uint64_t bits;
    sdb_sketch_init(s);
    if (n < 33 || p[0] != 1)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: bad header (%zu bytes)", n);
    s->zeros = sdb_get_le64(p + 1);
    s->count = sdb_get_le64(p + 9);
    bits = sdb_get_le64(p + 17);
    memcpy(&s->min, &bits, 8);
    bits = sdb_get_le64(p + 25);
    memcpy(&s->max, &bits, 8);
    p += 33;
    SDB_TRY(store_de(&s->pos, al, &p, end, err));
    SDB_TRY(store_de(&s->neg, al, &p, end, err));
    if (p != end)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "sketch: %zu trailing bytes", (size_t)(end - p));
    return SDB_OK;
}

static sdb_rc hll_alloc(sdb_hll *h, const sdb_alloc *al, sdb_err *err)
{
    if (h->reg != NULL)
        return SDB_OK;
    if ((h->reg = sdb_alloc_get(al, SDB_HLL_M, err)) == NULL)
        return err->code;
    memset(h->reg, 0, SDB_HLL_M);
    return SDB_OK;
}

sdb_rc sdb_hll_add_hash(sdb_hll *h, const sdb_alloc *al, uint64_t hash, sdb_err *err)
{
    uint32_t idx = (uint32_t)(hash >> (64 - SDB_HLL_P));
    uint64_t rest = (hash << SDB_HLL_P) | ((uint64_t)1 << (SDB_HLL_P - 1));
    uint8_t rho = (uint8_t)(__builtin_clzll(rest) + 1);
    SDB_TRY(hll_alloc(h, al, err));
    if (rho > h->reg[idx])
        h->reg[idx] = rho;
    return SDB_OK;
}

sdb_rc sdb_hll_merge(sdb_hll *dst, const sdb_alloc *al, const sdb_hll *src, sdb_err *err)
{
    if (src->reg == NULL)
        return SDB_OK;
    SDB_TRY(hll_alloc(dst, al, err));
    for (uint32_t k = 0; k < SDB_HLL_M; k++)
        if (src->reg[k] > dst->reg[k])
            dst->reg[k] = src->reg[k];
    return SDB_OK;
}

/* Ertl's improved estimator ("New cardinality estimation algorithms for HyperLogLog
 * sketches", 2017, algorithm 6): unbiased from empty to huge without the empirical bias
 * tables of HLL++ or the switch to linear counting. */
static double hll_sigma(double x)
{
    double y = 1, z = x, zp;
    if (x == 1)
        return INFINITY;
    do {
        x *= x;
        zp = z;
        z += x * y;
        y += y;
    } while (zp != z);
    return z;
}

static double hll_tau(double x)
{
    double y = 1, z, zp;
    if (x == 0 || x == 1)
        return 0;
    z = 1 - x;
    do {
        x = sqrt(x);
        zp = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (zp != z);
    return z / 3;
}

uint64_t sdb_hll_estimate(const sdb_hll *h)
{
    enum { Q = 64 - SDB_HLL_P };
    uint32_t c[Q + 2] = {0};
    double m = SDB_HLL_M, z;
    if (h->reg == NULL)
        return 0;
    for (uint32_t k = 0; k < SDB_HLL_M; k++)
        c[h->reg[k] <= Q + 1 ? h->reg[k] : Q + 1]++;
    if (c[0] == SDB_HLL_M)
        return 0;
    z = m * hll_tau(1 - (double)c[Q + 1] / m);
    for (int k = Q; k >= 1; k--)
        z = 0.5 * (z + c[k]);
    z += m * hll_sigma((double)c[0] / m);
    z = m * m / (2 * log(2)) / z;
    if (!(z < 9.2e18)) /* every register saturated (only decoded states get here) */
        return (uint64_t)INT64_MAX;
    return (uint64_t)llround(z);
}

sdb_rc sdb_hll_serialize(const sdb_hll *h, sdb_buf *b, sdb_err *err)
{
    static const uint8_t zero[SDB_HLL_M];
    return sdb_buf_append(b, h->reg ? h->reg : zero, SDB_HLL_M, err);
}

sdb_rc sdb_hll_deserialize(sdb_hll *h, const sdb_alloc *al, const void *p, size_t n,
                           sdb_err *err)
{
    const uint8_t *r = p;
    h->reg = NULL;
    if (n != SDB_HLL_M)
        return SDB_FAIL(err, SDB_ERR_CORRUPT, "hll: %zu bytes, expected %u", n, SDB_HLL_M);
    for (uint32_t k = 0; k < SDB_HLL_M; k++)
        if (r[k] > 64 - SDB_HLL_P + 1)
            return SDB_FAIL(err, SDB_ERR_CORRUPT, "hll: register %u holds %u", k, r[k]);
    SDB_TRY(hll_alloc(h, al, err));
    memcpy(h->reg, r, SDB_HLL_M);
    return SDB_OK;
}
