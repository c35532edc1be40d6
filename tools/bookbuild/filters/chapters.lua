--[[
chapters.lua -- shape the resolved book for the single-document formats (Typst PDF, EPUB).

  * each chapter (a Div with class `bb-chapter`) is unwrapped;
  * the first chapter of each part is preceded by a part heading; headers of chapters inside a
    part move one level down, so parts and chapters nest in the table of contents, the PDF
    outline and the EPUB navigation;
  * Typst only: a `// source: file` comment marks where each chapter starts (so a Typst error can
    be traced back to its chapter), and a chapter's title becomes a `#chapter-heading(...)` call
    (defined in book.typ) that opens the chapter and records its title for the running header;
  * EPUB only: a figure's id moves to a Div around it (pandoc does not rewrite links to figures
    split into another chapter file);
  * citations were already resolved by citeproc; their rendered text is kept (the Typst writer
    would otherwise emit `#cite`, which needs a Typst bibliography).
]]

PANDOC_VERSION:must_be_at_least '3.1'

local function typst(inlines)
  return pandoc.write(pandoc.Pandoc({pandoc.Plain(inlines)}), 'typst'):gsub('\n+$', '')
end

local function typst_string(text)
  return '"' .. text:gsub('\\', '\\\\'):gsub('"', '\\"') .. '"'
end

local function without_number(inlines)
  local out = pandoc.Inlines({})
  local skip_space = false
  for _, el in ipairs(inlines) do
    if el.t == 'Span' and el.classes:includes('header-section-number') then
      skip_space = true
    elseif skip_space and el.t == 'Space' then
      skip_space = false
    else
      skip_space = false
      out:insert(el)
    end
  end
  return out
end

local is_typst = FORMAT:match('typst') ~= nil

local function chapter_blocks(div, shift)
  local blocks = pandoc.List()
  local source = div.attributes['source'] or '?'
  if is_typst then blocks:insert(pandoc.RawBlock('typst', '// source: ' .. source)) end
  for _, block in ipairs(div.content) do
    if is_typst and block.t == 'Header' and block.level == 1 then
      local number = block.attributes['number']
      local args = {'level: ' .. (1 + shift)}
      if block.identifier ~= '' then table.insert(args, 'label: <' .. block.identifier .. '>') end
      if number then table.insert(args, 'number: ' .. typst_string(number)) end
      blocks:insert(pandoc.RawBlock('typst',
        '#chapter-heading(' .. table.concat(args, ', ') .. ')[' .. typst(without_number(block.content)) .. ']'))
    else
      blocks:insert(block)
    end
  end
  return pandoc.Blocks(blocks):walk({Header = function(h)
    h.level = h.level + shift
    -- EPUB: the header already shows its number; pandoc's navigation would add a second one
    -- from the `number` attribute crossref.lua left for the other writers.
    if not is_typst then h.attributes['number'] = nil end
    return h
  end})
end

function Pandoc(doc)
  local out = pandoc.List()
  local current_part = nil
  for _, block in ipairs(doc.blocks) do
    if block.t == 'Div' and block.classes:includes('bb-chapter') then
      local part = block.attributes['part']
      if part and part ~= current_part then
        if is_typst then
          out:insert(pandoc.RawBlock('typst', '#part-heading[' .. typst(pandoc.Inlines(part)) .. ']'))
        else
          out:insert(pandoc.Header(1, pandoc.Inlines(part), {class = 'part unnumbered'}))
        end
      end
      current_part = part
      out:extend(chapter_blocks(block, part and 1 or 0))
    else
      out:insert(block)
    end
  end
  doc.blocks = out
  return doc
end

-- EPUB: pandoc rewrites links to ids in other chapter files for headers, divs and tables, but not
-- for figures; carry a figure's id on a Div around it instead.
function Figure(fig)
  if is_typst or fig.identifier == '' then return nil end
  local id = fig.identifier
  fig.identifier = ''
  return pandoc.Div({fig}, {id = id})
end

function Cite(cite)
  if is_typst then return cite.content end
  return nil
end
