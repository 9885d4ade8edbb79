-- Neovim support for vmpolicy's `.policy` files: the filetype, comments, and the
-- language server (`vmpolicy lsp --stdio`) started for every `.policy` buffer.
-- Add editors/neovim to 'runtimepath' and call require("vmpolicy").setup() from
-- init.lua (docs/editors.md). Works on Neovim 0.7 (Debian 12's) and later: 0.7 has
-- no vim.lsp.start, so one client per root is started and attached by hand.
local M = {}

local clients = {}

local function root_of(file)
  local git = vim.fn.finddir(".git", vim.fn.fnamemodify(file, ":p:h") .. ";")
  if git ~= "" then return vim.fn.fnamemodify(git, ":p:h:h") end
  return vim.fn.fnamemodify(file, ":p:h")
end

-- opts.cmd: the server's command line (default { "vmpolicy", "lsp", "--stdio" });
-- add "--engine", URL or "--facts", FILE to it for hover values and label completion.
function M.setup(opts)
  opts = opts or {}
  local cmd = opts.cmd or { "vmpolicy", "lsp", "--stdio" }
  -- An autocmd rather than vim.filetype.add: 0.7 reads filetype.lua only when asked to.
  vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, { pattern = "*.policy", command = "setfiletype vmpolicy" })
  vim.api.nvim_create_autocmd("FileType", {
    pattern = "vmpolicy",
    callback = function(args)
      vim.bo[args.buf].commentstring = "# %s"
      local root = root_of(vim.api.nvim_buf_get_name(args.buf))
      if vim.lsp.start then
        vim.lsp.start({ name = "vmpolicy", cmd = cmd, root_dir = root }, { bufnr = args.buf })
        return
      end
      if not clients[root] then
        clients[root] = vim.lsp.start_client({ name = "vmpolicy", cmd = cmd, root_dir = root })
      end
      if clients[root] then vim.lsp.buf_attach_client(args.buf, clients[root]) end
    end,
  })
end

return M
