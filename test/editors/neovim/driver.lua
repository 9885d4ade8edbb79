-- Run by test/editors/neovim.test.ts inside a real headless Neovim: loads
-- editors/neovim's plugin as a user would, opens a policy with a misspelt name,
-- reads the diagnostics Neovim shows, asks for a hover, fixes the typo as a
-- keystroke would, and writes what it saw as JSON to $VMPOLICY_OUT.
local seen = {}
local function diagnostics(buf)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(list, { d.lnum, d.col, d.end_lnum, d.end_col, d.severity, d.source, d.message })
  end
  return list
end

require("vmpolicy").setup({ cmd = { vim.env.VMPOLICY_NODE, vim.env.VMPOLICY_CLI, "lsp", "--stdio" } })
vim.cmd("edit " .. vim.fn.fnameescape(vim.env.VMPOLICY_POLICY))
local buf = vim.api.nvim_get_current_buf()
seen.filetype = vim.bo[buf].filetype
seen.commentstring = vim.bo[buf].commentstring
seen.published = vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
seen.diagnostics = diagnostics(buf)

local responses = vim.lsp.buf_request_sync(buf, "textDocument/hover", {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  position = { line = 5, character = 23 },
}, 10000)
for _, r in pairs(responses or {}) do
  if r.result then seen.hover = r.result.contents.value end
end

-- The typo `meen` is on line 6 (0-based 5) at columns 12–16: type the fix.
vim.api.nvim_buf_set_text(buf, 5, 13, 5, 15, { "ea" })
seen.cleared = vim.wait(20000, function() return #vim.diagnostic.get(buf) == 0 end, 20)

vim.fn.writefile({ vim.fn.json_encode(seen) }, vim.env.VMPOLICY_OUT)
vim.cmd("qa!")
