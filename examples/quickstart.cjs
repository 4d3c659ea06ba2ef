// The quickstart from CommonJS: the same package through `require`.
const { Client, ThreadControlError } = require('messenger-handover')
const { Emulator } = require('messenger-handover/testing')

async function main() {
  const emu = process.env.PAGE_ACCESS_TOKEN ? null : await Emulator.start({ conversations: 20 })
  const bot = emu ? emu.client('primary') : new Client({ accessToken: process.env.PAGE_ACCESS_TOKEN })
  const psid = process.env.PSID ?? '4519738205716384'
  console.log('owner:', await bot.threadOwner(psid))
  await bot.passThreadControlToPageInbox(psid, { metadata: 'from require()' })
  await bot.takeThreadControl(psid)
  let n = 0
  for await (const c of bot.conversations({ pageSize: 10 })) if (++n === 1) console.log('first conversation:', c.id)
  try {
    await bot.passThreadControl(psid, '1')
  } catch (err) {
    console.log(err instanceof ThreadControlError ? `caught ${err.name} ${err.code}/${err.subcode}` : String(err))
  }
  bot.close()
  await emu?.stop()
}

main().catch((err) => {
  console.error(err)
  process.exitCode = 1
})
