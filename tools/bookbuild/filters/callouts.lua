--[[
callouts.lua -- Quarto callouts for every output format.

  ::: {.callout-tip title="In the interview" collapse="true"}
  Say it in one minute ...
  :::

Types: note, tip, warning, important, caution. The title comes from `title=` or from a header
that opens the callout (Quarto accepts both); otherwise the type's name. `collapse="true"` makes a
collapsible callout that starts closed, `collapse="false"` one that starts open (HTML only; other
formats always show the body).

HTML-like formats get semantic markup styled by the book's CSS; Typst gets a call to the
`callout` function defined in the book's Typst template.
]]

PANDOC_VERSION:must_be_at_least '3.1'

local TITLES = {
  note = 'Note', tip = 'Tip', warning = 'Warning', important = 'Important', caution = 'Caution',
}

local function callout_type(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match('^callout%-(%a+)$')
    if kind and TITLES[kind] then return kind end
  end
  return nil
end

local function title_and_body(div, kind)
  local body = div.content
  local title = nil
  if div.attributes['title'] then
    title = pandoc.read(div.attributes['title'], 'markdown').blocks
    title = #title > 0 and title[1].content or pandoc.Inlines({})
  elseif #body > 0 and body[1].t == 'Header' then
    title = body[1].content
    body = body:clone()
    body:remove(1)
  end
  return title or pandoc.Inlines({pandoc.Str(TITLES[kind])}), body
end

local function html_inline(inlines)
  return pandoc.write(pandoc.Pandoc({pandoc.Plain(inlines)}), 'html'):gsub('\n$', '')
end

local function typst_inline(inlines)
  return pandoc.write(pandoc.Pandoc({pandoc.Plain(inlines)}), 'typst'):gsub('\n$', '')
end

local function for_html(div, kind, title, body, collapsible)
  local open_attr = div.attributes['collapse'] == 'false' and ' open' or ''
  local blocks = pandoc.List()
  local classes = 'callout callout-' .. kind
  if collapsible then
    blocks:insert(pandoc.RawBlock('html', '<details class="' .. classes .. '"' .. open_attr .. '>'))
    blocks:insert(pandoc.RawBlock('html',
      '<summary class="callout-title">' .. html_inline(title) .. '</summary>'))
    blocks:insert(pandoc.Div(body, {class = 'callout-body'}))
    blocks:insert(pandoc.RawBlock('html', '</details>'))
    return blocks
  end
  local header = pandoc.Div({pandoc.Plain(title)}, {class = 'callout-title'})
  local attrs = {class = classes}
  if div.identifier ~= '' then attrs.id = div.identifier end
  return pandoc.Div({header, pandoc.Div(body, {class = 'callout-body'})}, attrs)
end

local function for_typst(kind, title, body)
  local blocks = pandoc.List()
  blocks:insert(pandoc.RawBlock('typst',
    '#callout(kind: "' .. kind .. '", title: [' .. typst_inline(title) .. '])['))
  blocks:extend(body)
  blocks:insert(pandoc.RawBlock('typst', ']'))
  return blocks
end

function Div(div)
  local kind = callout_type(div)
  if not kind then return nil end
  local title, body = title_and_body(div, kind)
  if FORMAT:match('typst') then
    return for_typst(kind, title, body)
  end
  local collapsible = div.attributes['collapse'] ~= nil and FORMAT:match('html') ~= nil
    and not FORMAT:match('epub')
  if FORMAT:match('html') or FORMAT:match('epub') or FORMAT:match('revealjs') then
    return for_html(div, kind, title, body, collapsible)
  end
  -- Any other writer: a titled block quote.
  local blocks = pandoc.List({pandoc.Para({pandoc.Strong(title)})})
  blocks:extend(body)
  return pandoc.BlockQuote(blocks)
end
